/** Authorization modes of `JOIN_ROOM`. */
export const AUTH_MODES = ['none', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Settings of the security providers, nested in `RelayOptions.security`.
 * Every field has a default in `DEFAULT_SECURITY_OPTIONS`; a limit of 0
 * turns that limit off.
 */
export interface SecurityOptions {
  /** `none` lets anyone join any room; `jwt` requires a signed join token. */
  authMode: AuthMode;
  /** HS256 secret of join tokens. */
  jwtSecret?: string;
  /** PEM public key or JWKS file that verifies RS256/ES256 join tokens. */
  jwtPublicKeyFile?: string;
  /** Required `iss` claim of join tokens, when set. */
  jwtIssuer?: string;
  /** Required `aud` claim of join tokens, when set. */
  jwtAudience?: string;
  /** Tolerated clock difference when checking `exp` and `nbf`, in seconds. */
  jwtClockSkewSeconds: number;

  /** Bearer token of the admin HTTP routes; absent leaves them open (development only). */
  adminToken?: string;

  /** Bearer token of `POST /rooms/:roomId/result`; absent disables the endpoint. */
  resultApiKey?: string;
  /** HMAC-SHA256 secret of result signatures; absent accepts unsigned results. */
  resultSigningSecret?: string;
  /** Largest age or future offset of a signed result's timestamp, in seconds. */
  resultSignatureToleranceSeconds: number;
  /** When true, a device's `PAYMENT_SUCCESS` is a claim that never makes a room `PAID`. */
  requireVerifiedResult: boolean;

  /** Origins allowed to open a WebSocket; empty allows every origin. */
  allowedOrigins: string[];
  /** Whether an upgrade without an `Origin` header (native apps, servers) is accepted. */
  allowMissingOrigin: boolean;
  /** Origins allowed by CORS on the HTTP routes; empty sends no CORS headers. */
  corsOrigins: string[];
  /**
   * Proxies in front of the server whose `X-Forwarded-For` entries are
   * trusted; 0 uses the socket's address.
   */
  trustProxy: number;

  /** Open WebSocket connections per client address. */
  maxConnectionsPerIp: number;
  /** Open WebSocket connections in total on this instance. */
  maxConnections: number;
  /** Rooms one client address may create per minute. */
  maxRoomsCreatedPerIpPerMinute: number;
  /** Messages per second one connection may send, sustained. */
  rateLimitPerSecond: number;
  /** Messages one connection may send in a burst above the sustained rate. */
  rateLimitBurst: number;
  /** Rate-limited messages within 10 s after which the connection is closed with 1008. */
  rateLimitCloseAfter: number;
  /** Bytes waiting to be sent to one connection before it is closed with 1013. */
  maxBufferedBytes: number;
  /** Time a connection may stay open without being in a room, in ms. */
  joinTimeoutMs: number;
  /** Whether `permessage-deflate` is negotiated with clients that offer it. */
  perMessageDeflate: boolean;
}

export const DEFAULT_SECURITY_OPTIONS: SecurityOptions = {
  authMode: 'none',
  jwtClockSkewSeconds: 30,
  resultSignatureToleranceSeconds: 300,
  requireVerifiedResult: false,
  allowedOrigins: [],
  allowMissingOrigin: true,
  corsOrigins: [],
  trustProxy: 0,
  maxConnectionsPerIp: 500,
  maxConnections: 10_000,
  maxRoomsCreatedPerIpPerMinute: 600,
  rateLimitPerSecond: 50,
  rateLimitBurst: 100,
  rateLimitCloseAfter: 100,
  maxBufferedBytes: 1024 * 1024,
  joinTimeoutMs: 30_000,
  perMessageDeflate: false,
};

/** Injection token of the resolved `SecurityOptions`. */
export const SECURITY_OPTIONS = Symbol('SECURITY_OPTIONS');
