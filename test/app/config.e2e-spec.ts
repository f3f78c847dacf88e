import { validateEnvironment } from '../../src/config/environment.js';
import { startTestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';

describe(validateEnvironment.name, () => {
  it('fills in every default', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 8080,
      WS_PATH: '/ws',
      MAX_PAYLOAD_BYTES: 16384,
      ROOM_MAX_CREATORS: 3,
    });
  });

  it('converts integers from text', () => {
    expect(validateEnvironment({ PORT: '9000' }).PORT).toBe(9000);
  });

  it.each([
    ['PORT', 'abc', 'must be an integer'],
    ['PORT', '70000', 'PORT must not be greater than 65535'],
    ['NODE_ENV', 'staging', 'NODE_ENV must be one of'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['WS_PATH', 'ws', 'WS_PATH must be a URL path'],
    ['ROOM_MAX_CREATORS', '0', 'ROOM_MAX_CREATORS must not be less than 1'],
    ['MAX_PAYLOAD_BYTES', '1.5', 'must be an integer'],
  ])('rejects %s=%s naming the variable and value', (key, value, rule) => {
    expect(() => validateEnvironment({ [key]: value })).toThrow(
      `${key}="${value}"`,
    );
    expect(() => validateEnvironment({ [key]: value })).toThrow(rule);
  });

  it('lists every invalid variable at once', () => {
    expect(() =>
      validateEnvironment({ PORT: 'x', HEARTBEAT_INTERVAL_MS: '1' }),
    ).toThrow(/PORT="x".*HEARTBEAT_INTERVAL_MS="1"/);
  });
});

describe('application start-up', () => {
  it('fails with the variable named when a setting is invalid', async () => {
    await expect(startTestServer({ ROOM_HISTORY_LIMIT: '-5' })).rejects.toThrow(
      'ROOM_HISTORY_LIMIT="-5"',
    );
  });

  it('serves the endpoint on WS_PATH', async () => {
    const server = await startTestServer({ WS_PATH: '/relay' });
    expect(server.wsUrl.endsWith('/relay')).toBe(true);
    const client = await TestClient.connect(server.wsUrl);
    await client.sync();
    await client.close();
    await server.close();
  });
});
