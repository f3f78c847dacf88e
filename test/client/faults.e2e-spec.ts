import {
  ClientEvent,
  Role,
  RoomStatus,
  type RelayClient,
  type RelayRoom,
} from '../../src/client/index.js';
import { RelayEvents } from '../../src/relay/relay-events.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  EventLog,
  FLOW,
  fastClient,
  sendStep,
  untilRoomEvent,
  untilState,
  withTimeout,
} from './client-fixture.js';

const HEARTBEAT_INTERVAL_MS = 200;

describe('client library under network faults', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let clients: RelayClient[];
  let roomNumber = 0;

  beforeAll(async () => {
    server = await startTestServer({
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
    });
  });

  afterAll(() => server.close());

  beforeEach(async () => {
    clients = [];
    proxy = await TcpProxy.start(server.port);
  });

  afterEach(async () => {
    for (const client of clients) {
      client.close();
    }
    await proxy.close();
  });

  function track(client: RelayClient): RelayClient {
    clients.push(client);
    return client;
  }

  /** Joins a creator through the proxy and a payer straight to the server to a fresh room. */
  async function joinPair(options: { payerThroughProxy?: boolean } = {}) {
    const roomId = `fault-${++roomNumber}`;
    const creator = track(fastClient(proxy.wsUrl(), { clientId: 'creator-1' }));
    const payer = track(
      fastClient(options.payerThroughProxy ? proxy.wsUrl() : server.wsUrl, {
        clientId: 'payer-1',
      }),
    );
    await Promise.all([creator.connect(), payer.connect()]);
    const creatorRoom = await creator.joinRoom(roomId, Role.CREATOR);
    const payerRoom = await payer.joinRoom(roomId, Role.PAYER);
    return {
      roomId,
      creator,
      payer,
      creatorRoom,
      payerRoom,
      log: new EventLog(creatorRoom),
    };
  }

  async function walk(room: RelayRoom, from: number, to: number) {
    for (let index = from; index < to; index += 1) {
      await sendStep(room, index);
    }
  }

  it.each([
    ['before CLICKED_PAY', 2],
    ['between CLICKED_PAY and PAYMENT_SUCCESS', 5],
  ])('creator cut %s sees every event once', async (_, cutAfter) => {
    const { creator, creatorRoom, payerRoom, log } = await joinPair();
    const delivered: number[] = [];
    const lastDelivered = new Promise<void>((resolve) =>
      payerRoom.on('delivered', ({ seq }) => {
        delivered.push(seq);
        if (seq === FLOW.length) {
          resolve();
        }
      }),
    );

    await walk(payerRoom, 0, cutAfter);
    await log.untilSeq(cutAfter);
    proxy.setAccepting(false);
    proxy.cutAll();
    await untilState(creator, 'reconnecting');

    await walk(payerRoom, cutAfter, FLOW.length);
    expect(log.seqs).toEqual(range(cutAfter));
    const rejoined = untilRoomEvent(creatorRoom, 'joined');
    proxy.setAccepting(true);
    expect(await rejoined).toMatchObject({ rejoin: true, seq: FLOW.length });
    await log.untilSeq(FLOW.length);

    expect(log.seqs).toEqual(range(FLOW.length));
    expect(log.names).toEqual([...FLOW]);
    expect(creatorRoom.status).toBe(RoomStatus.PAID);
    await withTimeout(lastDelivered, 5_000, 'DELIVERED of the last seq');
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
  });

  it('payer cut before the ACK of PAYMENT_SUCCESS retries as duplicate', async () => {
    const { payer, payerRoom, log } = await joinPair({
      payerThroughProxy: true,
    });
    await walk(payerRoom, 0, FLOW.length - 1);

    let cuts = 0;
    proxy.cutWhen((chunk) => {
      const text = chunk.toString('latin1');
      if (
        cuts === 0 &&
        text.includes('"event":"ACK","data":{"event":"PAYMENT_SUCCESS"')
      ) {
        cuts += 1;
        return true;
      }
      return false;
    });
    const rejoined = untilState(payer, 'reconnecting').then(() =>
      untilRoomEvent(payerRoom, 'joined'),
    );
    const ack = await sendStep(payerRoom, FLOW.length - 1);
    await rejoined;

    expect(cuts).toBe(1);
    expect(ack).toMatchObject({
      event: ClientEvent.PAYMENT_SUCCESS,
      seq: FLOW.length,
      duplicate: true,
    });
    await log.untilSeq(FLOW.length);
    expect(log.names).toEqual([...FLOW]);
    expect(
      log.names.filter((name) => name === ClientEvent.PAYMENT_SUCCESS),
    ).toHaveLength(1);
    expect(payerRoom.status).toBe(RoomStatus.PAID);
  });

  it('half-open connection is noticed on both sides', async () => {
    const livenessTimeoutMs = 600;
    const pingIntervalMs = 100;
    const roomId = `fault-${++roomNumber}`;
    const creator = track(
      fastClient(proxy.wsUrl(), {
        clientId: 'creator-half-open',
        pingIntervalMs,
        livenessTimeoutMs,
      }),
    );
    const payer = track(fastClient(server.wsUrl));
    await Promise.all([creator.connect(), payer.connect()]);
    const creatorRoom = await creator.joinRoom(roomId, Role.CREATOR);
    const payerRoom = await payer.joinRoom(roomId, Role.PAYER);
    const log = new EventLog(creatorRoom);
    await payerRoom.enteredSummary();
    await log.untilSeq(1);

    const events = server.app.get(RelayEvents);
    const serverNoticed = withTimeout(
      new Promise<number>((resolve) =>
        events.once('heartbeatTerminated', () => resolve(Date.now())),
      ),
      5_000,
      'the server to terminate the silent connection',
    );
    const clientNoticed = withTimeout(
      new Promise<number>((resolve) =>
        creator.once('livenessTimeout', () => resolve(Date.now())),
      ),
      5_000,
      'the client to drop the silent connection',
    );
    const start = Date.now();
    proxy.blackholeAll();
    await payerRoom.clickedProceed();

    const clientDelay = (await clientNoticed) - start;
    const serverDelay = (await serverNoticed) - start;
    // The client checks every pingIntervalMs and its last frame may be up to
    // one interval old; the server terminates at the second missed ping.
    expect(clientDelay).toBeGreaterThanOrEqual(
      livenessTimeoutMs - pingIntervalMs,
    );
    expect(clientDelay).toBeLessThan(
      livenessTimeoutMs + pingIntervalMs + 1_000,
    );
    expect(serverDelay).toBeLessThan(2 * HEARTBEAT_INTERVAL_MS + 1_000);

    await log.untilSeq(2);
    await payerRoom.paymentMethodChanged('PIX');
    await log.untilSeq(3);
    expect(log.seqs).toEqual([1, 2, 3]);
  });
});

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}
