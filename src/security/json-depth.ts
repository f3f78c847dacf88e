/**
 * Deepest nesting of arrays and objects a frame may have. Relay messages
 * need 3 levels (`{event, data: {fields: [...]}}`); validation and
 * transformation recurse once per level, so a deeply nested frame could
 * otherwise exhaust the call stack.
 */
export const MAX_FRAME_DEPTH = 16;

/**
 * Tells whether a parsed JSON value nests arrays and objects deeper than
 * `limit`. Iterative, so that measuring cannot itself overflow the stack.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    if (depth + 1 > limit) {
      return true;
    }
    for (const child of Object.values(current)) {
      pending.push([child, depth + 1]);
    }
  }
  return false;
}
