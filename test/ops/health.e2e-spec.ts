import { WebSocket } from 'ws';
import { TestClient } from '../support/test-client.js';
import { startTestServer } from '../support/test-server.js';

const DRAIN_DELAY_MS = 1_000;
const POLL_LIMIT_MS = 5_000;

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

/** Polls `url` until it responds with `expected`, failing after `POLL_LIMIT_MS`. */
async function waitForStatus(url: string, expected: number): Promise<void> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  let last = 0;
  while (Date.now() < deadline) {
    last = await status(url);
    if (last === expected) {
      return;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(
    `${url} answered ${last}, not ${expected}, for ${POLL_LIMIT_MS} ms`,
  );
}

describe('health endpoints', () => {
  it('report ready and live while serving', async () => {
    const server = await startTestServer();
    const ready = await fetch(`${server.httpUrl}/health/ready`);
    expect(ready.status).toBe(200);
    await expect(ready.json()).resolves.toMatchObject({
      ready: true,
      checks: { shutdown: 'ok' },
    });
    expect(await status(`${server.httpUrl}/health/live`)).toBe(200);
    await server.close();
  });

  it('turn unready before clients close at shutdown', async () => {
    const server = await startTestServer({
      SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
    });
    const client = await TestClient.connect(server.wsUrl);
    await client.join('health-room', 'CREATOR');

    const closing = server.close();
    await waitForStatus(`${server.httpUrl}/health/ready`, 503);
    const report = await fetch(`${server.httpUrl}/health/ready`);
    await expect(report.json()).resolves.toMatchObject({
      ready: false,
      checks: { shutdown: 'failing' },
    });
    expect(await status(`${server.httpUrl}/health/live`)).toBe(200);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);

    const closed = await client.closed;
    expect(closed.code).toBe(1012);
    await closing;
  });
});
