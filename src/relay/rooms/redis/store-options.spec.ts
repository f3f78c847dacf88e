import { validateEnvironment } from '../../../config/environment.js';

describe('room store settings', () => {
  it('defaults to the memory store', () => {
    const env = validateEnvironment({});

    expect(env.ROOM_STORE).toBe('memory');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('rejects an unknown store', () => {
    expect(() => validateEnvironment({ ROOM_STORE: 'postgres' })).toThrow(
      /ROOM_STORE="postgres"/,
    );
  });

  it('rejects a prefix with braces', () => {
    expect(() => validateEnvironment({ REDIS_KEY_PREFIX: 'a{b}:' })).toThrow(
      /REDIS_KEY_PREFIX/,
    );
  });

  it('rejects a death time under two heartbeats', () => {
    expect(() =>
      validateEnvironment({
        INSTANCE_HEARTBEAT_INTERVAL_MS: '1000',
        INSTANCE_DEAD_AFTER_MS: '1500',
      }),
    ).toThrow(/INSTANCE_DEAD_AFTER_MS="1500": must be at least twice/);
  });

  it('accepts a death time of two heartbeats', () => {
    const env = validateEnvironment({
      INSTANCE_HEARTBEAT_INTERVAL_MS: '1000',
      INSTANCE_DEAD_AFTER_MS: '2000',
    });

    expect(env.INSTANCE_DEAD_AFTER_MS).toBe(2000);
  });
});
