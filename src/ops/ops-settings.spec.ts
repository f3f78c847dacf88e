import { validateEnvironment } from '../config/environment.js';
import { opsSettingProblems } from './ops-settings.js';

describe('opsSettingProblems', () => {
  const base = {
    NODE_ENV: 'test' as const,
    SHUTDOWN_TIMEOUT_MS: 10_000,
    READINESS_CHECK_TIMEOUT_MS: 1_000,
    ADMIN_LIVE_INTERVAL_MS: 250,
  };

  it('accepts a drain delay of half the shutdown timeout', () => {
    expect(
      opsSettingProblems({ ...base, SHUTDOWN_DRAIN_DELAY_MS: 5_000 }),
    ).toEqual([]);
  });

  it('rejects a drain delay above half the shutdown timeout', () => {
    const [problem] = opsSettingProblems({
      ...base,
      SHUTDOWN_DRAIN_DELAY_MS: 5_001,
    });
    expect(problem).toContain('SHUTDOWN_DRAIN_DELAY_MS="5001"');
  });

  it('fails environment validation', () => {
    expect(() =>
      validateEnvironment({
        SHUTDOWN_TIMEOUT_MS: '1000',
        SHUTDOWN_DRAIN_DELAY_MS: '900',
      }),
    ).toThrow(/SHUTDOWN_DRAIN_DELAY_MS="900": must be at most half/);
  });

  it('rejects an invalid DEMO_PAGES value', () => {
    expect(() => validateEnvironment({ DEMO_PAGES: 'yes' })).toThrow(
      /DEMO_PAGES must be true or false/,
    );
  });

  it('rejects a DEMO_PUBLIC_URL with a path', () => {
    expect(() =>
      validateEnvironment({ DEMO_PUBLIC_URL: 'http://host:8080/demo' }),
    ).toThrow(/DEMO_PUBLIC_URL must be an http/);
  });
});
