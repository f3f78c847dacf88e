/**
 * Prints a join token for one room and role, signed the way a merchant
 * backend would sign it. For development and tests:
 *
 *     npm run token -- --room order-1234 --role PAYER --ttl 600
 *
 * HS256 with AUTH_JWT_SECRET by default; RS256 or ES256 with
 * --private-key FILE (PEM, PKCS#8). AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE
 * set `iss` and `aud`. Variables come from the environment and `.env`.
 */
import { SignJWT } from 'jose';
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ID_PATTERN, ROLES, type Role } from '../protocol/index.js';

const USAGE = `Usage: npm run token -- --room ROOM_ID --role CREATOR|PAYER [options]

Options:
  --room ID           room the token admits to (required)
  --role ROLE         CREATOR or PAYER (required)
  --ttl SECONDS       lifetime of the token in seconds (default 300)
  --private-key FILE  sign with this PEM private key (RS256 or ES256)
                      instead of AUTH_JWT_SECRET (HS256)
  --help              show this text`;

interface TokenRequest {
  roomId: string;
  role: Role;
  ttlSeconds: number;
  privateKeyFile?: string;
}

function parseRequest(argv: string[]): TokenRequest {
  const { values } = parseArgs({
    args: argv,
    options: {
      room: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string', default: '300' },
      'private-key': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }

  const roomId = values.room ?? '';
  if (!ID_PATTERN.test(roomId)) {
    throw new Error(
      `--room "${roomId}" is invalid: give 1 to 128 characters of A-Z a-z 0-9 _ -`,
    );
  }
  const role = (values.role ?? '').toUpperCase() as Role;
  if (!ROLES.includes(role)) {
    throw new Error(
      `--role "${values.role ?? ''}" is invalid: give CREATOR or PAYER`,
    );
  }
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new Error(
      `--ttl "${values.ttl}" is invalid: give a whole number of seconds`,
    );
  }
  return { roomId, role, ttlSeconds, privateKeyFile: values['private-key'] };
}

function signingKey(request: TokenRequest): {
  key: Uint8Array | KeyObject;
  algorithm: string;
} {
  if (request.privateKeyFile) {
    const key = createPrivateKey(readFileSync(request.privateKeyFile, 'utf8'));
    if (key.asymmetricKeyType === 'rsa') {
      return { key, algorithm: 'RS256' };
    }
    if (key.asymmetricKeyType === 'ec') {
      return { key, algorithm: 'ES256' };
    }
    throw new Error(
      `--private-key "${request.privateKeyFile}" contains an unsupported ${key.asymmetricKeyType ?? 'unknown'} key: use an RSA or EC P-256 key`,
    );
  }

  const secret = process.env.AUTH_JWT_SECRET;
  if (!secret) {
    throw new Error(
      'AUTH_JWT_SECRET is not set: set it (in the environment or .env) or pass --private-key FILE',
    );
  }
  return { key: new TextEncoder().encode(secret), algorithm: 'HS256' };
}

async function main(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  const request = parseRequest(process.argv.slice(2));
  const { key, algorithm } = signingKey(request);

  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ roomId: request.roomId, role: request.role })
    .setProtectedHeader({ alg: algorithm })
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds)
    .setJti(randomUUID());
  if (process.env.AUTH_JWT_ISSUER) {
    jwt.setIssuer(process.env.AUTH_JWT_ISSUER);
  }
  if (process.env.AUTH_JWT_AUDIENCE) {
    jwt.setAudience(process.env.AUTH_JWT_AUDIENCE);
  }
  console.log(await jwt.sign(key));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(USAGE);
  process.exit(2);
});
