import { SignJWT, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';
import { signResult } from '../../src/security/results/result-auth.guard.js';

/** HS256 secret used by the security tests: 32+ characters, as the server requires. */
export const JWT_SECRET = 'test-join-token-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const RESULT_API_KEY = 'test-result-api-key-0123456789';
export const RESULT_SIGNING_SECRET = 'test-result-signing-secret-0123456789ab';

export interface JoinTokenOptions {
  /** Seconds from now until `exp`; negative for an expired token. */
  expiresIn?: number;
  secret?: string | KeyObject;
  algorithm?: 'HS256' | 'RS256' | 'ES256';
  keyId?: string;
  issuer?: string;
  audience?: string;
}

/** Signs a join token for a room and role: HS256 with `JWT_SECRET` unless the options give another key. */
export function joinToken(
  claims: { roomId?: string; role?: string } & JWTPayload,
  options: JoinTokenOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const algorithm = options.algorithm ?? 'HS256';
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: algorithm, kid: options.keyId })
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300));
  if (options.issuer) {
    jwt.setIssuer(options.issuer);
  }
  if (options.audience) {
    jwt.setAudience(options.audience);
  }
  const key = options.secret ?? JWT_SECRET;
  return jwt.sign(
    typeof key === 'string' ? new TextEncoder().encode(key) : key,
  );
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Sends an HTTP request to the test server and parses a JSON body when there is one. */
export async function http(
  url: string,
  init: RequestInit = {},
): Promise<HttpReply> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: parseBody(text),
  };
}

function parseBody(text: string): Record<string, unknown> {
  if (text === '') {
    return {};
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text };
  }
}

/** Posts a payment result the way a payment backend does: bearer key and, with a secret, a signature. */
export function postResult(
  httpUrl: string,
  roomId: string,
  result: Record<string, unknown>,
  options: {
    apiKey?: string;
    signingSecret?: string;
    timestamp?: number;
    /** Room the signature names; `roomId` unless a test forges a replay. */
    signedRoomId?: string;
  } = {},
): Promise<HttpReply> {
  const body = JSON.stringify(result);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Authorization: `Bearer ${options.apiKey ?? RESULT_API_KEY}`,
  };
  if (options.signingSecret) {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    headers['X-Relay-Timestamp'] = String(timestamp);
    headers['X-Relay-Signature'] = signResult(
      options.signingSecret,
      timestamp,
      options.signedRoomId ?? roomId,
      body,
    );
  }
  return http(`${httpUrl}/rooms/${roomId}/result`, {
    method: 'POST',
    headers,
    body,
  });
}
