import { nestsDeeperThan } from './json-depth.js';

describe(nestsDeeperThan.name, () => {
  it('counts objects and arrays as levels', () => {
    expect(nestsDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [[1]] }, 2)).toBe(true);
  });

  it('ignores scalars', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
  });

  it('measures 100000 levels without overflowing the stack', () => {
    const deep = JSON.parse(
      '['.repeat(100_000) + ']'.repeat(100_000),
    ) as unknown;
    expect(nestsDeeperThan(deep, 16)).toBe(true);
  });
});
