import { IsString, MaxLength } from 'class-validator';
import { WebSocket } from 'ws';
import { FlowEventDto } from '../../src/relay/dto/flow-events.dto.js';
import { RelayModule } from '../../src/relay/relay.module.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';

/** A flow event with a large field, to fill a slow reader's send buffer. */
class BlobDto extends FlowEventDto {
  @IsString()
  @MaxLength(1_000_000)
  blob!: string;
}

const BLOB_EVENTS = RelayModule.forFeature([
  { name: 'BLOB', dto: BlobDto, roles: ['PAYER'], effect: {} },
]);

/** Opens a connection and returns the HTTP status of a rejected upgrade, or 101. */
function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) {
        reject(error);
      }
    });
  });
}

/** Retries an upgrade until it is accepted, because the server frees a slot only once the old socket's close reaches it. */
async function upgradeEventually(url: string): Promise<WebSocket> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { status, socket } = await upgradeStatus(url);
    if (socket) {
      return socket;
    }
    expect(status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the connection slot was never released');
}

function closeAll(sockets: (WebSocket | undefined)[]): Promise<void[]> {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (!socket || socket.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          socket.once('close', () => resolve());
          socket.close();
        }),
    ),
  );
}

describe('abuse limits', () => {
  describe('origin allow-list', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({
        ALLOWED_ORIGINS: 'https://shop.example',
      });
    });
    afterAll(() => server.close());

    it('rejects an origin not on the list with 403', async () => {
      const { status } = await upgradeStatus(server.wsUrl, {
        Origin: 'https://evil.example',
      });
      expect(status).toBe(403);
    });

    it('accepts a listed origin and a missing one', async () => {
      const listed = await upgradeStatus(server.wsUrl, {
        Origin: 'https://shop.example',
      });
      const missing = await upgradeStatus(server.wsUrl);
      expect(listed.status).toBe(101);
      expect(missing.status).toBe(101);
      await closeAll([listed.socket, missing.socket]);
    });

    it('rejects a missing origin when ALLOW_MISSING_ORIGIN=false', async () => {
      const strict = await startTestServer({
        ALLOWED_ORIGINS: 'https://shop.example',
        ALLOW_MISSING_ORIGIN: 'false',
      });
      try {
        const { status } = await upgradeStatus(strict.wsUrl);
        expect(status).toBe(403);
      } finally {
        await strict.close();
      }
    });
  });

  describe('connections per address', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ MAX_CONNECTIONS_PER_IP: '2' });
    });
    afterAll(() => server.close());

    it('answers 429 above the limit and frees the slot on close', async () => {
      const first = await upgradeStatus(server.wsUrl);
      const second = await upgradeStatus(server.wsUrl);
      const third = await upgradeStatus(server.wsUrl);
      expect(third.status).toBe(429);

      await closeAll([first.socket]);
      const again = await upgradeEventually(server.wsUrl);
      await closeAll([second.socket, again]);
    });
  });

  describe('connections per address without a trusted proxy', () => {
    it('ignores X-Forwarded-For', async () => {
      const server = await startTestServer({ MAX_CONNECTIONS_PER_IP: '1' });
      try {
        const first = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '203.0.113.1',
        });
        const second = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '203.0.113.2',
        });
        expect(first.status).toBe(101);
        expect(second.status).toBe(429);
        await closeAll([first.socket]);
      } finally {
        await server.close();
      }
    });
  });

  describe('connections per address behind a trusted proxy', () => {
    it('counts the forwarded address', async () => {
      const server = await startTestServer({
        MAX_CONNECTIONS_PER_IP: '1',
        TRUST_PROXY: '1',
      });
      try {
        const a = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '203.0.113.1',
        });
        const b = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '203.0.113.2',
        });
        const again = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '203.0.113.1',
        });
        const spoofed = await upgradeStatus(server.wsUrl, {
          'X-Forwarded-For': '198.51.100.7, 203.0.113.2',
        });
        expect(a.status).toBe(101);
        expect(b.status).toBe(101);
        expect(again.status).toBe(429);
        expect(spoofed.status).toBe(429);
        await closeAll([a.socket, b.socket]);
      } finally {
        await server.close();
      }
    });
  });

  describe('connections in total', () => {
    it('answers 503 above MAX_CONNECTIONS', async () => {
      const server = await startTestServer({ MAX_CONNECTIONS: '2' });
      try {
        const first = await upgradeStatus(server.wsUrl);
        const second = await upgradeStatus(server.wsUrl);
        const third = await upgradeStatus(server.wsUrl);
        expect(third.status).toBe(503);
        await closeAll([first.socket, second.socket]);
      } finally {
        await server.close();
      }
    });
  });

  describe('message rate', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({
        RATE_LIMIT_PER_SECOND: '1',
        RATE_LIMIT_BURST: '5',
        RATE_LIMIT_CLOSE_AFTER: '10',
      });
    });
    afterAll(() => server.close());

    it('answers messages above the burst with RATE_LIMITED', async () => {
      const client = await TestClient.connect(server.wsUrl);
      for (let i = 0; i < 6; i++) {
        client.send('PING');
      }
      for (let i = 0; i < 5; i++) {
        await client.next('PONG');
      }
      const error = await client.next('ERROR');
      expect(error.data).toMatchObject({ code: 'RATE_LIMITED' });
      await client.close();
    });

    it('closes a connection that keeps flooding with 1008', async () => {
      const client = await TestClient.connect(server.wsUrl);
      for (let i = 0; i < 30; i++) {
        client.send('PING');
      }
      const closed = await client.closed;
      expect(closed.code).toBe(1008);
      expect(client.queued('ERROR').length).toBeGreaterThan(0);
    });

    it('leaves other connections alone', async () => {
      const flooder = await TestClient.connect(server.wsUrl);
      const quiet = await TestClient.connect(server.wsUrl);
      for (let i = 0; i < 30; i++) {
        flooder.send('PING');
      }
      await flooder.closed;
      await quiet.sync();
      await quiet.close();
    });
  });

  describe('rooms created per address', () => {
    it('answers TOO_MANY_ROOMS above the limit', async () => {
      const server = await startTestServer({
        MAX_ROOMS_CREATED_PER_IP_PER_MINUTE: '2',
      });
      const client = await TestClient.connect(server.wsUrl);
      const other = await TestClient.connect(server.wsUrl);
      try {
        await client.join('created-1', 'CREATOR');
        await client.join('created-2', 'CREATOR');
        const error = await client.expectError('JOIN_ROOM', {
          roomId: 'created-3',
          role: 'CREATOR',
        });
        expect(error.code).toBe('TOO_MANY_ROOMS');
        expect(error.message).toMatch(/MAX_ROOMS_CREATED_PER_IP_PER_MINUTE/);

        const joined = await other.join('created-1', 'PAYER');
        expect(joined.roomId).toBe('created-1');
      } finally {
        await client.close();
        await other.close();
        await server.close();
      }
    });
  });

  describe('slow readers', () => {
    it('closes a reader whose send buffer overflows and keeps ACKs prompt', async () => {
      const server = await startTestServer(
        {
          MAX_PAYLOAD_BYTES: String(1024 * 1024),
          MAX_BUFFERED_BYTES: String(256 * 1024),
          RATE_LIMIT_PER_SECOND: '1000',
          RATE_LIMIT_BURST: '1000',
        },
        [BLOB_EVENTS],
      );
      const reader = await TestClient.connect(server.wsUrl);
      const sender = await TestClient.connect(server.wsUrl);
      try {
        await reader.join('slow', 'CREATOR');
        await sender.join('slow', 'PAYER');
        // Stops reading from the TCP socket, as a stalled device would.
        const tcp = (
          reader.socket as unknown as {
            _socket: { pause(): void; resume(): void };
          }
        )._socket;
        tcp.pause();

        const blob = 'x'.repeat(512 * 1024);
        let sent = 0;
        while (sender.queued('PEER_LEFT').length === 0 && sent < 80) {
          const started = performance.now();
          const ack = await sender.request('BLOB', { roomId: 'slow', blob });
          expect(ack.seq).toBe(sent + 1);
          expect(performance.now() - started).toBeLessThan(1_000);
          sent += 1;
          await sender.sync();
        }
        const left = await sender.next('PEER_LEFT');
        expect(left.data).toMatchObject({ role: 'CREATOR' });

        tcp.resume();
        const closed = await reader.closed;
        expect([1013, 1006]).toContain(closed.code);
      } finally {
        reader.terminate();
        await sender.close();
        await server.close();
      }
    });
  });

  describe('connections that never join', () => {
    it('closes them with 1008 after JOIN_TIMEOUT_MS', async () => {
      const server = await startTestServer({ JOIN_TIMEOUT_MS: '300' });
      const idle = await TestClient.connect(server.wsUrl);
      const member = await TestClient.connect(server.wsUrl);
      try {
        await member.join('timeout-room', 'CREATOR');
        const closed = await idle.closed;
        expect(closed.code).toBe(1008);
        expect(closed.reason).toMatch(/JOIN_TIMEOUT_MS/);
        await member.sync();
      } finally {
        await member.close();
        await server.close();
      }
    });
  });

  describe('permessage-deflate', () => {
    it('is not negotiated by default', async () => {
      const server = await startTestServer();
      const client = await TestClient.connect(server.wsUrl, {
        perMessageDeflate: true,
      });
      try {
        expect(client.socket.extensions).toBe('');
      } finally {
        await client.close();
        await server.close();
      }
    });

    it('bounds the inflated size when enabled', async () => {
      const server = await startTestServer({
        WS_PERMESSAGE_DEFLATE: 'true',
        MAX_PAYLOAD_BYTES: '16384',
      });
      const client = await TestClient.connect(server.wsUrl, {
        perMessageDeflate: true,
      });
      try {
        expect(client.socket.extensions).toContain('permessage-deflate');
        await client.sync();
        client.sendRaw('a'.repeat(1024 * 1024));
        const closed = await client.closed;
        expect(closed.code).toBe(1009);
      } finally {
        await server.close();
      }
    });
  });
});
