import { startTestServer, type TestServer } from '../support/test-server.js';
import { ADMIN_TOKEN, http } from './security-helpers.js';

describe('HTTP surface', () => {
  describe('with ADMIN_TOKEN', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ ADMIN_TOKEN });
    });
    afterAll(() => server.close());

    it('rejects /stats without a token', async () => {
      const reply = await http(`${server.httpUrl}/stats`);
      expect(reply.status).toBe(401);
    });

    it('rejects /stats with a wrong token', async () => {
      const reply = await http(`${server.httpUrl}/stats`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}x` },
      });
      expect(reply.status).toBe(401);
    });

    it('rejects /stats/rooms/:roomId without a token', async () => {
      const reply = await http(`${server.httpUrl}/stats/rooms/any`);
      expect(reply.status).toBe(401);
    });

    it('serves /stats with the token', async () => {
      const reply = await http(`${server.httpUrl}/stats`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toHaveProperty('totalRooms');
    });

    it('rejects /admin/snapshot without a token', async () => {
      const reply = await http(`${server.httpUrl}/admin/snapshot`);
      expect(reply.status).toBe(401);
    });

    it('serves /admin/snapshot with the token', async () => {
      const reply = await http(`${server.httpUrl}/admin/snapshot`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(reply.status).toBe(200);
    });

    it('leaves /health open', async () => {
      const reply = await http(`${server.httpUrl}/health`);
      expect(reply.status).not.toBe(401);
    });

    it('sends security headers and no X-Powered-By', async () => {
      const reply = await http(`${server.httpUrl}/stats`);
      expect(reply.headers.get('x-powered-by')).toBeNull();
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.headers.get('x-frame-options')).toBe('DENY');
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('content-security-policy')).toContain(
        "frame-ancestors 'none'",
      );
    });

    it('sends no CORS headers by default', async () => {
      const reply = await http(`${server.httpUrl}/stats`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://evil.example',
          'Access-Control-Request-Method': 'GET',
        },
      });
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('without ADMIN_TOKEN in test mode', () => {
    it('leaves /stats open', async () => {
      const server = await startTestServer();
      try {
        const reply = await http(`${server.httpUrl}/stats`);
        expect(reply.status).toBe(200);
      } finally {
        await server.close();
      }
    });
  });

  describe('with CORS_ORIGINS', () => {
    it('allows only the listed origins', async () => {
      const server = await startTestServer({
        CORS_ORIGINS: 'https://shop.example',
      });
      const preflight = (origin: string) =>
        http(`${server.httpUrl}/stats`, {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
        });
      try {
        const allowed = await preflight('https://shop.example');
        expect(allowed.headers.get('access-control-allow-origin')).toBe(
          'https://shop.example',
        );
        const other = await preflight('https://evil.example');
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await server.close();
      }
    });
  });
});
