import type { EnvironmentVariables } from '../config/environment.js';
import type { AuthMode, SecurityOptions } from './security-options.js';

type SecurityVariables = Pick<
  EnvironmentVariables,
  | 'NODE_ENV'
  | 'AUTH_MODE'
  | 'AUTH_JWT_SECRET'
  | 'AUTH_JWT_PUBLIC_KEY_FILE'
  | 'AUTH_JWT_ISSUER'
  | 'AUTH_JWT_AUDIENCE'
  | 'AUTH_JWT_CLOCK_SKEW_S'
  | 'ADMIN_TOKEN'
  | 'RESULT_API_KEY'
  | 'RESULT_SIGNING_SECRET'
  | 'RESULT_SIGNATURE_TOLERANCE_S'
  | 'REQUIRE_VERIFIED_RESULT'
  | 'ALLOWED_ORIGINS'
  | 'ALLOW_MISSING_ORIGIN'
  | 'CORS_ORIGINS'
  | 'TRUST_PROXY'
  | 'MAX_CONNECTIONS_PER_IP'
  | 'MAX_CONNECTIONS'
  | 'MAX_ROOMS_CREATED_PER_IP_PER_MINUTE'
  | 'RATE_LIMIT_PER_SECOND'
  | 'RATE_LIMIT_BURST'
  | 'RATE_LIMIT_CLOSE_AFTER'
  | 'MAX_BUFFERED_BYTES'
  | 'JOIN_TIMEOUT_MS'
  | 'WS_PERMESSAGE_DEFLATE'
>;

/**
 * Resolves an unset `AUTH_MODE`: `jwt` when a join token key is configured,
 * `none` otherwise.
 */
export function resolveAuthMode(env: SecurityVariables): AuthMode {
  if (env.AUTH_MODE) {
    return env.AUTH_MODE;
  }
  return env.AUTH_JWT_SECRET || env.AUTH_JWT_PUBLIC_KEY_FILE ? 'jwt' : 'none';
}

/**
 * Checks the combinations of security settings that single-field validation
 * cannot see.
 * @returns one message per problem, naming the variables and the fix.
 */
export function securitySettingProblems(env: SecurityVariables): string[] {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const hasKey = Boolean(env.AUTH_JWT_SECRET || env.AUTH_JWT_PUBLIC_KEY_FILE);

  if (env.AUTH_JWT_SECRET && env.AUTH_JWT_PUBLIC_KEY_FILE) {
    problems.push(
      'AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY_FILE are both set: set only one (HS256 secret or RS256/ES256 public key)',
    );
  }
  if (env.AUTH_MODE === 'jwt' && !hasKey) {
    problems.push(
      'AUTH_MODE=jwt needs AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE',
    );
  }
  if (production && env.AUTH_MODE === undefined && !hasKey) {
    problems.push(
      'production mode needs join tokens: set AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE, or set AUTH_MODE=none to run without them on purpose',
    );
  }
  if (production && !env.ADMIN_TOKEN) {
    problems.push(
      'production mode needs ADMIN_TOKEN: the admin routes are never open in production',
    );
  }
  if (env.REQUIRE_VERIFIED_RESULT && !env.RESULT_API_KEY) {
    problems.push(
      'REQUIRE_VERIFIED_RESULT=true needs RESULT_API_KEY: without the result endpoint no room could become PAID',
    );
  }
  return problems;
}

/** Maps the validated environment to `SecurityOptions`. */
export function securityOptionsFromEnvironment(
  env: SecurityVariables,
): SecurityOptions {
  return {
    authMode: resolveAuthMode(env),
    jwtSecret: env.AUTH_JWT_SECRET,
    jwtPublicKeyFile: env.AUTH_JWT_PUBLIC_KEY_FILE,
    jwtIssuer: env.AUTH_JWT_ISSUER,
    jwtAudience: env.AUTH_JWT_AUDIENCE,
    jwtClockSkewSeconds: env.AUTH_JWT_CLOCK_SKEW_S,
    adminToken: env.ADMIN_TOKEN,
    resultApiKey: env.RESULT_API_KEY,
    resultSigningSecret: env.RESULT_SIGNING_SECRET,
    resultSignatureToleranceSeconds: env.RESULT_SIGNATURE_TOLERANCE_S,
    requireVerifiedResult: env.REQUIRE_VERIFIED_RESULT,
    allowedOrigins: splitList(env.ALLOWED_ORIGINS),
    allowMissingOrigin: env.ALLOW_MISSING_ORIGIN,
    corsOrigins: splitList(env.CORS_ORIGINS),
    trustProxy: env.TRUST_PROXY,
    maxConnectionsPerIp: env.MAX_CONNECTIONS_PER_IP,
    maxConnections: env.MAX_CONNECTIONS,
    maxRoomsCreatedPerIpPerMinute: env.MAX_ROOMS_CREATED_PER_IP_PER_MINUTE,
    rateLimitPerSecond: env.RATE_LIMIT_PER_SECOND,
    rateLimitBurst: env.RATE_LIMIT_BURST,
    rateLimitCloseAfter: env.RATE_LIMIT_CLOSE_AFTER,
    maxBufferedBytes: env.MAX_BUFFERED_BYTES,
    joinTimeoutMs: env.JOIN_TIMEOUT_MS,
    perMessageDeflate: env.WS_PERMESSAGE_DEFLATE,
  };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}
