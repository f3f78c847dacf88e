import { validateEnvironment } from '../config/environment.js';
import { securityOptionsFromEnvironment } from './security-settings.js';

const SECRET = 'a-join-token-secret-of-32-characters!';
const ADMIN = 'an-admin-token-0123';

describe('security settings', () => {
  describe('in production mode', () => {
    it('rejects a start without a join token key', () => {
      expect(() =>
        validateEnvironment({ NODE_ENV: 'production', ADMIN_TOKEN: ADMIN }),
      ).toThrow(/AUTH_MODE=none/);
    });

    it('rejects a start without ADMIN_TOKEN', () => {
      expect(() =>
        validateEnvironment({
          NODE_ENV: 'production',
          AUTH_JWT_SECRET: SECRET,
        }),
      ).toThrow(/ADMIN_TOKEN/);
    });

    it('starts with AUTH_MODE=none set explicitly', () => {
      const env = validateEnvironment({
        NODE_ENV: 'production',
        AUTH_MODE: 'none',
        ADMIN_TOKEN: ADMIN,
      });
      expect(securityOptionsFromEnvironment(env).authMode).toBe('none');
    });

    it('turns jwt on when a key is set', () => {
      const env = validateEnvironment({
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: SECRET,
        ADMIN_TOKEN: ADMIN,
      });
      expect(securityOptionsFromEnvironment(env).authMode).toBe('jwt');
    });
  });

  it('defaults to AUTH_MODE none in development', () => {
    const env = validateEnvironment({});
    expect(securityOptionsFromEnvironment(env).authMode).toBe('none');
  });

  it('rejects AUTH_MODE=jwt without a key', () => {
    expect(() => validateEnvironment({ AUTH_MODE: 'jwt' })).toThrow(
      /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE/,
    );
  });

  it('rejects both a secret and a public key file', () => {
    expect(() =>
      validateEnvironment({
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWT_PUBLIC_KEY_FILE: '/keys/public.pem',
      }),
    ).toThrow(/only one/);
  });

  it('rejects REQUIRE_VERIFIED_RESULT without RESULT_API_KEY', () => {
    expect(() =>
      validateEnvironment({ REQUIRE_VERIFIED_RESULT: 'true' }),
    ).toThrow(/RESULT_API_KEY/);
  });

  it('rejects a short secret without echoing it', () => {
    let message = '';
    try {
      validateEnvironment({ AUTH_JWT_SECRET: 'short-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/AUTH_JWT_SECRET/);
    expect(message).not.toContain('short-secret');
  });

  it('rejects a boolean setting that is not true or false', () => {
    expect(() => validateEnvironment({ WS_PERMESSAGE_DEFLATE: 'yes' })).toThrow(
      /WS_PERMESSAGE_DEFLATE="yes": must be true or false/,
    );
  });

  it('splits origin lists', () => {
    const env = validateEnvironment({
      ALLOWED_ORIGINS: 'https://a.example, https://b.example,',
    });
    expect(securityOptionsFromEnvironment(env).allowedOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });
});
