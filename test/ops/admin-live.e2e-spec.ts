import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface StreamEvent {
  type: string;
  data: {
    totals: Record<string, number>;
    rooms?: {
      roomId: string;
      status?: string;
      removed?: boolean;
      members?: { role: string }[];
    }[];
  };
}

const EVENT_TIMEOUT_MS = 3_000;

/** Reads server-sent events from a `fetch` response body. */
class EventStreamReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<string>;

  constructor(response: Response) {
    if (!response.body) {
      throw new Error('response has no body');
    }
    this.reader = response.body
      .pipeThrough(new TextDecoderStream())
      .getReader();
  }

  /** Returns the next event that matches, skipping others; fails after `EVENT_TIMEOUT_MS`. */
  async next(matches: (event: StreamEvent) => boolean): Promise<StreamEvent> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const event = await this.read(deadline);
      if (matches(event)) {
        return event;
      }
    }
  }

  async closed(): Promise<boolean> {
    for (;;) {
      const { done } = await this.reader.read();
      if (done) {
        return true;
      }
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private async read(deadline: number): Promise<StreamEvent> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: (.*)$/gm)]
          .map((m) => m[1])
          .join('\n');
        return { type, data: JSON.parse(data) as StreamEvent['data'] };
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`no matching event within ${EVENT_TIMEOUT_MS} ms`);
      }
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`no matching event within ${EVENT_TIMEOUT_MS} ms`),
              ),
            remaining,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) {
        throw new Error('stream ended');
      }
      this.buffer += chunk.value;
    }
  }
}

describe('admin live stream', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ADMIN_LIVE_INTERVAL_MS: '20' });
  });
  afterAll(() => server.close());

  it('pushes room changes as they happen', async () => {
    const response = await fetch(`${server.httpUrl}/admin/live`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const stream = new EventStreamReader(response);
    const snapshot = await stream.next((event) => event.type === 'snapshot');
    expect(snapshot.data.totals.rooms).toBe(0);

    const creator = await TestClient.connect(server.wsUrl);
    const payer = await TestClient.connect(server.wsUrl);
    await creator.join('live-room', 'CREATOR');
    await payer.join('live-room', 'PAYER');
    const joined = await stream.next((event) =>
      (event.data.rooms ?? []).some(
        (room) => room.roomId === 'live-room' && room.members?.length === 2,
      ),
    );
    expect(joined.type).toBe('rooms');
    expect(joined.data.totals.connections).toBe(2);

    await payer.request('CLICKED_PAY', { roomId: 'live-room' });
    await payer.request('PAYMENT_SUCCESS', { roomId: 'live-room' });
    const paid = await stream.next((event) =>
      (event.data.rooms ?? []).some(
        (room) => room.roomId === 'live-room' && room.status === 'PAID',
      ),
    );
    expect(paid.data.totals.paymentsCompleted).toBe(1);

    await stream.cancel();
    await creator.close();
    await payer.close();
  });

  it('serves the snapshot as JSON', async () => {
    const response = await fetch(`${server.httpUrl}/admin/snapshot`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as StreamEvent['data'];
    expect(body.totals).toHaveProperty('connections');
    expect(Array.isArray(body.rooms)).toBe(true);
  });

  it('requires the admin token when one is set', async () => {
    const token = 'admin-token-for-tests';
    const guarded = await startTestServer({ ADMIN_TOKEN: token });
    try {
      const without = await fetch(`${guarded.httpUrl}/admin/snapshot`);
      expect(without.status).toBe(401);
      const wrong = await fetch(`${guarded.httpUrl}/admin/live`, {
        headers: { Authorization: 'Bearer wrong-token-of-length' },
      });
      expect(wrong.status).toBe(401);
      const allowed = await fetch(`${guarded.httpUrl}/admin/snapshot`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(allowed.status).toBe(200);
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        const open = await fetch(`${guarded.httpUrl}${path}`);
        await open.arrayBuffer();
        expect({ path, status: open.status }).toEqual({ path, status: 200 });
      }
    } finally {
      await guarded.close();
    }
  });

  it('ends open streams at shutdown', async () => {
    const own = await startTestServer();
    const response = await fetch(`${own.httpUrl}/admin/live`);
    const stream = new EventStreamReader(response);
    await stream.next((event) => event.type === 'snapshot');
    await own.close();
    await expect(stream.closed()).resolves.toBe(true);
  });
});
