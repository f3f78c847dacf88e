import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ErrorCode, ROLES, type Role } from '../protocol/index.js';
import { RelayException } from '../relay/relay.exception.js';
import { SECURITY_OPTIONS, type SecurityOptions } from './security-options.js';

/** Maximum length of a join token, in characters. */
export const MAX_JOIN_TOKEN_LENGTH = 4096;

/** The claims of a verified join token that the relay uses. */
export interface JoinTokenClaims {
  roomId: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  jti?: string;
}

type VerificationKey =
  Uint8Array | KeyObject | ReturnType<typeof createLocalJWKSet>;

/**
 * Verifies join tokens: JWTs signed with HS256 (`AUTH_JWT_SECRET`) or
 * RS256/ES256 (`AUTH_JWT_PUBLIC_KEY_FILE`, a PEM public key or a JWKS file),
 * carrying `roomId`, `role` and `exp`, and `iss`/`aud` when configured.
 */
@Injectable()
export class JoinTokenVerifier implements OnModuleInit {
  private readonly logger = new Logger(JoinTokenVerifier.name);
  private key?: VerificationKey;
  private algorithms: string[] = [];

  constructor(
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  get enabled(): boolean {
    return this.options.authMode === 'jwt';
  }

  /** Loads the verification key; a missing or unusable key file stops the start-up. */
  async onModuleInit(): Promise<void> {
    if (!this.enabled) {
      this.logger.warn(
        'AUTH_MODE=none: any client may join any room as any role; set AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE before going to production',
      );
      return;
    }

    const { jwtSecret, jwtPublicKeyFile } = this.options;
    if (jwtSecret) {
      this.key = new TextEncoder().encode(jwtSecret);
      this.algorithms = ['HS256'];
    } else if (jwtPublicKeyFile) {
      await this.loadPublicKey(jwtPublicKeyFile);
    } else {
      throw new Error(
        'AUTH_MODE=jwt needs AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE',
      );
    }
    this.logger.log(
      `Join tokens required (${this.algorithms.join(', ')}, clock skew ${this.options.jwtClockSkewSeconds} s)`,
    );
  }

  /**
   * Verifies a join token's signature, expiry, issuer, audience and claims.
   * @throws RelayException `UNAUTHORIZED` naming what is wrong, never echoing the token.
   */
  async verify(token: string): Promise<JoinTokenClaims> {
    if (!this.key) {
      throw new Error('JoinTokenVerifier used before its key was loaded');
    }
    if (token.length > MAX_JOIN_TOKEN_LENGTH) {
      throw unauthorized(
        `Join token is longer than ${MAX_JOIN_TOKEN_LENGTH} characters`,
      );
    }

    let payload: JWTPayload;
    try {
      const result = await jwtVerify(
        token,
        this.key as Parameters<typeof jwtVerify>[1],
        {
          algorithms: this.algorithms,
          issuer: this.options.jwtIssuer,
          audience: this.options.jwtAudience,
          clockTolerance: this.options.jwtClockSkewSeconds,
          requiredClaims: ['exp'],
        },
      );
      payload = result.payload;
    } catch (error) {
      throw unauthorized(describeFailure(error));
    }
    return claimsOf(payload);
  }

  private async loadPublicKey(path: string): Promise<void> {
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      throw new Error(
        `AUTH_JWT_PUBLIC_KEY_FILE "${path}" could not be read: ${(error as Error).message}`,
      );
    });

    if (text.trimStart().startsWith('{')) {
      const jwks = JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0];
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
        throw new Error(
          `AUTH_JWT_PUBLIC_KEY_FILE "${path}" is JSON but not a JWKS with a "keys" array`,
        );
      }
      this.key = createLocalJWKSet(jwks);
      this.algorithms = ['RS256', 'ES256'];
      return;
    }

    const key = createPublicKey(text);
    if (key.asymmetricKeyType === 'rsa') {
      this.algorithms = ['RS256'];
    } else if (
      key.asymmetricKeyType === 'ec' &&
      key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
    ) {
      this.algorithms = ['ES256'];
    } else {
      throw new Error(
        `AUTH_JWT_PUBLIC_KEY_FILE "${path}" contains an unsupported ${key.asymmetricKeyType ?? 'unknown'} key: use an RSA key (RS256) or an EC P-256 key (ES256)`,
      );
    }
    this.key = key;
  }
}

function claimsOf(payload: JWTPayload): JoinTokenClaims {
  const { roomId, role, exp, jti } = payload;
  if (typeof roomId !== 'string' || roomId.length === 0) {
    throw unauthorized('Join token has no "roomId" claim');
  }
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw unauthorized('Join token has no "role" claim of CREATOR or PAYER');
  }
  return { roomId, role: role as Role, exp: exp as number, jti };
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return 'Join token expired: ask the merchant backend for a new one';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `Join token claim "${error.claim}" is invalid (${error.reason})`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'Join token is signed with an algorithm this server does not accept';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'Join token signature is invalid';
  }
  return 'Join token is malformed or not signed with the configured key';
}

function unauthorized(message: string): RelayException {
  return new RelayException(ErrorCode.UNAUTHORIZED, message);
}
