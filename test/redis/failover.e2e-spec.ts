import { once } from 'node:events';
import type { Frame } from '../../src/protocol/index.js';
import { CHECKOUT_STEPS, uniqueRoomId } from '../support/room-fixture.js';
import {
  deleteKeys,
  describeWithRedis,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../support/redis-server.js';
import {
  freePort,
  startServerProcess,
  type ServerProcess,
} from '../support/server-process.js';
import { buildServer } from '../support/build.js';
import { TestClient } from '../support/test-client.js';
import { getJson } from '../support/wait-for.js';

const FLOW_EVENTS = new Set(CHECKOUT_STEPS.map((step) => step.event));

/** Time within which a dead instance's members must be gone, in ms. */
const DEAD_AFTER_MS = 1_000;
const HEARTBEAT_MS = 200;

/**
 * One device of a room that survives server restarts the way a client
 * library does: on a closed socket it connects to the next server and
 * rejoins with the highest `seq` it saw, so the server sends what it missed.
 */
class Device {
  /** `seq` of every relayed event this device received, in arrival order. */
  readonly seqs: number[] = [];
  private client?: TestClient;
  private lastSeq = 0;

  constructor(
    readonly roomId: string,
    readonly role: 'CREATOR' | 'PAYER',
    readonly clientId: string,
    private readonly servers: () => string[],
  ) {}

  /** Connects to the first server of the list that accepts the join. */
  async connect(preferred = 0): Promise<void> {
    const urls = this.servers();
    let lastError: unknown;
    for (let attempt = 0; attempt < urls.length * 3; attempt += 1) {
      const url = urls[(preferred + attempt) % urls.length];
      try {
        await this.joinThrough(url);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(
      `device ${this.clientId} found no server to join: ${String(lastError)}`,
    );
  }

  /**
   * Sends a flow event until a server acknowledges it, reconnecting when
   * the socket closes. The `eventId` stays the same, so a resend of an
   * event the server already accepted comes back as a duplicate.
   */
  async send(event: string, data: Record<string, unknown>): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const client = this.client;
      try {
        if (!client || client.socket.readyState !== client.socket.OPEN) {
          throw new Error('not connected');
        }
        const ack = await client.request<{ seq: number }>(event, {
          roomId: this.roomId,
          ...data,
        });
        return ack.seq;
      } catch {
        await this.connect(attempt);
      }
    }
    throw new Error(`device ${this.clientId} could not send ${event}`);
  }

  /** Waits until this device received relayed events up to `seq`, reconnecting if needed. */
  async receivedUpTo(seq: number): Promise<void> {
    for (let attempt = 0; attempt < 10 && this.lastSeq < seq; attempt += 1) {
      const client = this.client;
      if (!client || client.socket.readyState !== client.socket.OPEN) {
        await this.connect(attempt);
        continue;
      }
      try {
        await client.nextMatching(
          (frame) =>
            this.lastSeq >= seq ||
            (FLOW_EVENTS.has(frame.event) &&
              (frame.data as { seq: number }).seq >= seq),
          5_000,
          `relayed events up to seq ${seq}`,
        );
      } catch {
        // The socket closed or the frame came with the next join's `missed`.
      }
    }
    expect(this.lastSeq).toBeGreaterThanOrEqual(seq);
  }

  /** The current connection; undefined before the first join. */
  get connection(): TestClient | undefined {
    return this.client;
  }

  close(): Promise<unknown> {
    return this.client?.close() ?? Promise.resolve();
  }

  private async joinThrough(url: string): Promise<void> {
    const client = await TestClient.connect(url);
    client.socket.on('message', (raw: Buffer) => this.record(raw));
    try {
      const joined = await client.join(this.roomId, this.role, {
        clientId: this.clientId,
        lastSeq: this.lastSeq,
      });
      for (const frame of joined.missed as Frame[]) {
        this.see(frame);
      }
    } catch (error) {
      client.terminate();
      throw error;
    }
    const previous = this.client;
    this.client = client;
    previous?.terminate();
  }

  private record(raw: Buffer): void {
    const frame = JSON.parse(raw.toString('utf8')) as Frame;
    if (FLOW_EVENTS.has(frame.event)) {
      this.see(frame);
    }
  }

  private see(frame: Frame): void {
    const { seq } = frame.data as { seq: number };
    this.seqs.push(seq);
    this.lastSeq = Math.max(this.lastSeq, seq);
  }
}

/** Checks that a device got every event from 1 to `count` once, in order. */
function expectCompleteSequence(device: Device, count: number): void {
  expect(device.seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

await describeWithRedis('Redis room store with failing instances', () => {
  const prefix = uniqueKeyPrefix('failover');
  const processes: ServerProcess[] = [];
  const devices: Device[] = [];

  function environment(instanceId: string): Record<string, string> {
    return {
      // `startServerProcess` waits for the startup line, logged at `log`.
      LOG_LEVEL: 'log',
      ROOM_STORE: 'redis',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      INSTANCE_ID: instanceId,
      INSTANCE_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      INSTANCE_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
  }

  async function start(instanceId: string, port?: number) {
    const server = await startServerProcess(
      port ?? (await freePort()),
      environment(instanceId),
    );
    processes.push(server);
    return server;
  }

  /** Stops a server with SIGTERM, as a deploy does, and waits for its exit. */
  async function stop(server: ServerProcess): Promise<void> {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  }

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((device) => device.close()));
    await Promise.all(processes.splice(0).map((server) => server.kill()));
  });

  beforeAll(() => {
    buildServer();
  }, 120_000);

  afterAll(() => deleteKeys(prefix));

  it('finishes the flow after SIGKILL of the payer instance', async () => {
    const a = await start('kill-a');
    const b = await start('kill-b');
    const roomId = uniqueRoomId('kill');
    const creator = new Device(roomId, 'CREATOR', 'creator', () => [a.wsUrl]);
    const payer = new Device(roomId, 'PAYER', 'payer', () => [
      b.wsUrl,
      a.wsUrl,
    ]);
    devices.push(creator, payer);
    await creator.connect();
    await payer.connect();
    for (const step of CHECKOUT_STEPS.slice(0, 3)) {
      await payer.send(step.event, step.data);
    }
    await creator.receivedUpTo(3);

    await b.kill();
    const started = Date.now();
    const left = await creator.connection!.next(
      'PEER_LEFT',
      DEAD_AFTER_MS + 4 * HEARTBEAT_MS + 2_000,
    );
    expect(left.data).toMatchObject({ clientId: 'payer', role: 'PAYER' });
    expect(Date.now() - started).toBeLessThan(DEAD_AFTER_MS + 2_000);

    for (const step of CHECKOUT_STEPS.slice(3)) {
      await payer.send(step.event, step.data);
    }
    await creator.receivedUpTo(CHECKOUT_STEPS.length);
    expectCompleteSequence(creator, CHECKOUT_STEPS.length);

    const room = await getJson<{ status: string; seq: number }>(
      `${a.httpUrl}/stats/rooms/${roomId}`,
    );
    expect(room.body).toMatchObject({
      status: 'PAID',
      seq: CHECKOUT_STEPS.length,
    });
  }, 30_000);

  it('loses nothing in a rolling restart with 50 rooms', async () => {
    const servers = [await start('roll-a'), await start('roll-b')];
    const urls = () => servers.map((server) => server.wsUrl);
    const rooms = Array.from({ length: 50 }, (_, index) => {
      const roomId = uniqueRoomId('roll');
      const creator = new Device(roomId, 'CREATOR', `creator-${index}`, urls);
      const payer = new Device(roomId, 'PAYER', `payer-${index}`, urls);
      devices.push(creator, payer);
      return { roomId, index, creator, payer };
    });
    for (const room of rooms) {
      await room.creator.connect(room.index % 2);
      await room.payer.connect((room.index + 1) % 2);
    }

    const runSteps = (from: number, to: number) =>
      Promise.all(
        rooms.map(async ({ payer }) => {
          for (const step of CHECKOUT_STEPS.slice(from, to)) {
            await payer.send(step.event, {
              ...step.data,
              eventId: `${payer.roomId}-${step.event}`,
            });
          }
        }),
      );

    await runSteps(0, 2);
    // Restart each instance in turn while the rooms send their next steps.
    for (const [position, step] of [
      [0, 2],
      [1, 4],
    ] as const) {
      const old = servers[position];
      const sending = runSteps(step, step + 2);
      await stop(old);
      servers[position] = await start(`roll-${position}-again`, old.port);
      await sending;
    }

    for (const { creator, payer, roomId } of rooms) {
      await creator.receivedUpTo(CHECKOUT_STEPS.length);
      expectCompleteSequence(creator, CHECKOUT_STEPS.length);
      expect(new Set(payer.seqs).size).toBe(payer.seqs.length);
      const room = await getJson<{ status: string; seq: number }>(
        `${servers[0].httpUrl}/stats/rooms/${roomId}`,
      );
      expect(room.body).toMatchObject({
        status: 'PAID',
        seq: CHECKOUT_STEPS.length,
      });
    }
  }, 60_000);
});
