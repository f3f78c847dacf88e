import { exportJWK } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';
import { JWT_SECRET, joinToken } from './security-helpers.js';

describe('join tokens', () => {
  describe('with an HS256 secret', () => {
    let server: TestServer;
    const clients: TestClient[] = [];
    const connect = async (url = server.wsUrl, options = {}) => {
      const client = await TestClient.connect(url, options);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      server = await startTestServer({
        AUTH_MODE: 'jwt',
        AUTH_JWT_SECRET: JWT_SECRET,
        AUTH_JWT_CLOCK_SKEW_S: '0',
      });
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    });
    afterAll(() => server.close());

    it('rejects a join without a token', async () => {
      const client = await connect();
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'no-token',
        role: 'PAYER',
      });
      expect(error.code).toBe('UNAUTHORIZED');
    });

    it('rejects a token signed with another secret', async () => {
      const client = await connect();
      const token = await joinToken(
        { roomId: 'forged', role: 'PAYER' },
        { secret: 'another-secret-of-at-least-32-characters!' },
      );
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'forged',
        role: 'PAYER',
        token,
      });
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toMatch(/signature/);
    });

    it('rejects an expired token', async () => {
      const client = await connect();
      const token = await joinToken(
        { roomId: 'expired', role: 'PAYER' },
        { expiresIn: -10 },
      );
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'expired',
        role: 'PAYER',
        token,
      });
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toMatch(/expired/);
    });

    it('rejects a token without roomId', async () => {
      const client = await connect();
      const token = await joinToken({ role: 'PAYER' });
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'claimless',
        role: 'PAYER',
        token,
      });
      expect(error.code).toBe('UNAUTHORIZED');
    });

    it('rejects garbage as a token', async () => {
      const client = await connect();
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'garbage',
        role: 'PAYER',
        token: 'not.a.jwt',
      });
      expect(error.code).toBe('UNAUTHORIZED');
    });

    it('forbids a token for another room', async () => {
      const client = await connect();
      const token = await joinToken({ roomId: 'room-a', role: 'PAYER' });
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'room-b',
        role: 'PAYER',
        token,
      });
      expect(error.code).toBe('FORBIDDEN');
    });

    it('forbids a token for another role', async () => {
      const client = await connect();
      const token = await joinToken({ roomId: 'role-room', role: 'PAYER' });
      const error = await client.expectError('JOIN_ROOM', {
        roomId: 'role-room',
        role: 'CREATOR',
        token,
      });
      expect(error.code).toBe('FORBIDDEN');
    });

    it('keeps a client without a token out of the room', async () => {
      const creator = await connect();
      const payer = await connect();
      const intruder = await connect();
      await creator.join('guarded', 'CREATOR', {
        token: await joinToken({ roomId: 'guarded', role: 'CREATOR' }),
      });
      await payer.join('guarded', 'PAYER', {
        token: await joinToken({ roomId: 'guarded', role: 'PAYER' }),
      });

      const joinError = await intruder.expectError('JOIN_ROOM', {
        roomId: 'guarded',
        role: 'CREATOR',
      });
      expect(joinError.code).toBe('UNAUTHORIZED');
      const publishError = await intruder.expectError('CLICKED_PAY', {
        roomId: 'guarded',
      });
      expect(publishError.code).toBe('NOT_IN_ROOM');

      await payer.request('CLICKED_PAY', { roomId: 'guarded' });
      await creator.next('CLICKED_PAY');
      await intruder.sync();
      expect(intruder.queued('CLICKED_PAY')).toHaveLength(0);
      expect(intruder.queued('PEER_JOINED')).toHaveLength(0);
    });

    it('accepts a token in the upgrade query', async () => {
      const token = await joinToken({ roomId: 'by-query', role: 'PAYER' });
      const client = await connect(`${server.wsUrl}?token=${token}`);
      const joined = await client.join('by-query', 'PAYER');
      expect(joined.roomId).toBe('by-query');
    });

    it('accepts a token in the upgrade Authorization header', async () => {
      const token = await joinToken({ roomId: 'by-header', role: 'CREATOR' });
      const client = await connect(server.wsUrl, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const joined = await client.join('by-header', 'CREATOR');
      expect(joined.roomId).toBe('by-header');
    });

    it('answers an invalid upgrade token with 401', async () => {
      await expect(
        TestClient.connect(`${server.wsUrl}?token=not.a.jwt`),
      ).rejects.toThrow(/401/);
    });

    it('keeps a member whose token expires but rejects its next join', async () => {
      const payer = await connect();
      const token = await joinToken(
        { roomId: 'short-lived', role: 'PAYER' },
        { expiresIn: 1 },
      );
      await payer.join('short-lived', 'PAYER', { token });
      const { exp } = JSON.parse(
        Buffer.from(token.split('.')[1], 'base64url').toString(),
      ) as { exp: number };

      // Waits for the token's expiry itself: the behaviour under test
      // starts once the clock passes `exp`.
      while (Date.now() / 1000 <= exp) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const ack = await payer.request('CLICKED_PAY', { roomId: 'short-lived' });
      expect(ack.seq).toBe(1);
      const error = await payer.expectError('JOIN_ROOM', {
        roomId: 'short-lived',
        role: 'PAYER',
        token,
      });
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toMatch(/expired/);
    });
  });

  describe('with issuer and audience', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({
        AUTH_JWT_SECRET: JWT_SECRET,
        AUTH_JWT_ISSUER: 'https://shop.example',
        AUTH_JWT_AUDIENCE: 'payment-relay',
      });
    });
    afterAll(() => server.close());

    it('requires the configured issuer and audience', async () => {
      const client = await TestClient.connect(server.wsUrl);
      const claims = { roomId: 'iss-room', role: 'PAYER' };
      const wrongIssuer = await joinToken(claims, {
        issuer: 'https://evil.example',
        audience: 'payment-relay',
      });
      const issuerError = await client.expectError('JOIN_ROOM', {
        ...claims,
        token: wrongIssuer,
      });
      expect(issuerError.code).toBe('UNAUTHORIZED');

      const noAudience = await joinToken(claims, {
        issuer: 'https://shop.example',
      });
      const audienceError = await client.expectError('JOIN_ROOM', {
        ...claims,
        token: noAudience,
      });
      expect(audienceError.code).toBe('UNAUTHORIZED');

      const valid = await joinToken(claims, {
        issuer: 'https://shop.example',
        audience: 'payment-relay',
      });
      const joined = await client.join('iss-room', 'PAYER', { token: valid });
      expect(joined.roomId).toBe('iss-room');
      await client.close();
    });
  });

  describe('with a public key file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'relay-keys-'));
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    it('verifies RS256 tokens with a PEM public key', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
      });
      const file = join(directory, 'rsa.pem');
      writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
      const server = await startTestServer({ AUTH_JWT_PUBLIC_KEY_FILE: file });
      const client = await TestClient.connect(server.wsUrl);
      try {
        const token = await joinToken(
          { roomId: 'rsa-room', role: 'CREATOR' },
          { algorithm: 'RS256', secret: privateKey },
        );
        const joined = await client.join('rsa-room', 'CREATOR', { token });
        expect(joined.roomId).toBe('rsa-room');

        const hmacToken = await joinToken({
          roomId: 'rsa-room',
          role: 'PAYER',
        });
        const error = await client.expectError('JOIN_ROOM', {
          roomId: 'rsa-room',
          role: 'PAYER',
          token: hmacToken,
        });
        expect(error.code).toBe('UNAUTHORIZED');
      } finally {
        await client.close();
        await server.close();
      }
    });

    it('verifies ES256 tokens with a JWKS file', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
      });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
      const file = join(directory, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [jwk] }));
      const server = await startTestServer({ AUTH_JWT_PUBLIC_KEY_FILE: file });
      const client = await TestClient.connect(server.wsUrl);
      try {
        const token = await joinToken(
          { roomId: 'ec-room', role: 'PAYER' },
          { algorithm: 'ES256', secret: privateKey, keyId: 'k1' },
        );
        const joined = await client.join('ec-room', 'PAYER', { token });
        expect(joined.roomId).toBe('ec-room');
      } finally {
        await client.close();
        await server.close();
      }
    });

    it('refuses to start with an unreadable key file', async () => {
      await expect(
        startTestServer({
          AUTH_JWT_PUBLIC_KEY_FILE: join(directory, 'missing.pem'),
        }),
      ).rejects.toThrow(/could not be read/);
    });
  });
});
