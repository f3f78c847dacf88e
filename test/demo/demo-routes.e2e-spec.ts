import { demoPagesEnabled } from '../../src/ops/ops-settings.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('demo routes', () => {
  describe('when enabled', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ DEMO_PAGES: 'true' });
    });
    afterAll(() => server.close());

    it('serve the three pages as HTML with a CSP', async () => {
      for (const path of ['/demo', '/demo/pay/room-1', '/demo/admin']) {
        const response = await fetch(`${server.httpUrl}${path}`);
        expect({ path, status: response.status }).toEqual({
          path,
          status: 200,
        });
        expect(response.headers.get('content-type')).toContain('text/html');
        expect(response.headers.get('content-security-policy')).toContain(
          "script-src 'self'",
        );
        await expect(response.text()).resolves.toContain('lang="pt-BR"');
      }
    });

    it('reject a payer page for an invalid room id', async () => {
      const response = await fetch(`${server.httpUrl}/demo/pay/bad%20id`);
      expect(response.status).toBe(404);
    });

    it('redirect a short link with only the checked query', async () => {
      const response = await fetch(
        `${server.httpUrl}/p/room-1?amount=2590&description=Caf%C3%A9&evil=1`,
        { redirect: 'manual' },
      );
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        '/demo/pay/room-1?amount=2590&description=Caf%C3%A9',
      );
    });

    it('drop an amount that is not whole cents', async () => {
      const response = await fetch(`${server.httpUrl}/p/room-1?amount=1e9`, {
        redirect: 'manual',
      });
      expect(response.headers.get('location')).toBe('/demo/pay/room-1');
    });

    it('draw a QR code of the short link', async () => {
      const response = await fetch(
        `${server.httpUrl}/demo/qr/room-1?amount=100`,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('image/svg+xml');
      await expect(response.text()).resolves.toMatch(/^<svg /);
    });

    it('serve the client library as an ES module', async () => {
      const response = await fetch(
        `${server.httpUrl}/demo/modules/client/index.js`,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/javascript');
      const code = await response.text();
      expect(code).toContain("from '../protocol/index.js'");
      expect(code).not.toMatch(/^import type/m);
    });

    it('serve no module outside the browser folders', async () => {
      for (const path of [
        'config/environment.js',
        'relay/relay.module.js',
        'client/../config/environment.js',
        'client/%2e%2e/config/environment.js',
        'client/missing.js',
        'client/index.ts',
      ]) {
        const response = await fetch(`${server.httpUrl}/demo/modules/${path}`);
        await response.arrayBuffer();
        expect({ path, status: response.status }).toEqual({
          path,
          status: 404,
        });
      }
    });
  });

  describe('when disabled', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ DEMO_PAGES: 'false' });
    });
    afterAll(() => server.close());

    it('answer 404 everywhere', async () => {
      for (const path of [
        '/demo',
        '/demo/admin',
        '/p/room-1',
        '/demo/modules/client/index.js',
      ]) {
        const response = await fetch(`${server.httpUrl}${path}`, {
          redirect: 'manual',
        });
        await response.arrayBuffer();
        expect({ path, status: response.status }).toEqual({
          path,
          status: 404,
        });
      }
    });
  });

  it('default to off in production only', () => {
    expect(demoPagesEnabled({ NODE_ENV: 'production' })).toBe(false);
    expect(demoPagesEnabled({ NODE_ENV: 'development' })).toBe(true);
    expect(demoPagesEnabled({ NODE_ENV: 'test' })).toBe(true);
    expect(
      demoPagesEnabled({ NODE_ENV: 'production', DEMO_PAGES: 'true' }),
    ).toBe(true);
    expect(
      demoPagesEnabled({ NODE_ENV: 'development', DEMO_PAGES: 'false' }),
    ).toBe(false);
  });
});
