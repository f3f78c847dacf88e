import { Role, RoomStatus, type RelayClient } from '../../src/client/index.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  EventLog,
  FLOW,
  fastClient,
  sendStep,
  untilRoomEvent,
  untilState,
} from './client-fixture.js';

const HISTORY_LIMIT = 2;

describe('client library past the history limit', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  const clients: RelayClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      ROOM_HISTORY_LIMIT: String(HISTORY_LIMIT),
    });
    proxy = await TcpProxy.start(server.port);
  });

  afterAll(async () => {
    for (const client of clients) {
      client.close();
    }
    await proxy.close();
    await server.close();
  });

  it('reports truncation and hands the retained events', async () => {
    const creator = fastClient(proxy.wsUrl(), { clientId: 'creator-history' });
    const payer = fastClient(server.wsUrl, { clientId: 'payer-history' });
    clients.push(creator, payer);
    await Promise.all([creator.connect(), payer.connect()]);
    const creatorRoom = await creator.joinRoom('history', Role.CREATOR);
    const payerRoom = await payer.joinRoom('history', Role.PAYER);
    const log = new EventLog(creatorRoom);
    const order: string[] = [];
    creatorRoom.on('truncated', () => order.push('truncated'));
    creatorRoom.on('event', ({ data }) => order.push(`seq ${data.seq}`));

    await sendStep(payerRoom, 0);
    await log.untilSeq(1);
    proxy.setAccepting(false);
    proxy.cutAll();
    await untilState(creator, 'reconnecting');
    for (let index = 1; index < FLOW.length; index += 1) {
      await sendStep(payerRoom, index);
    }

    const truncated = untilRoomEvent(creatorRoom, 'joined');
    proxy.setAccepting(true);
    expect(await truncated).toMatchObject({ truncated: true, rejoin: true });
    await log.untilSeq(FLOW.length);

    // Seqs 2 to 4 left the history before the re-join and never arrive.
    expect(log.seqs).toEqual([1, 5, 6]);
    expect(order).toEqual(['seq 1', 'truncated', 'seq 5', 'seq 6']);
    expect(creatorRoom.status).toBe(RoomStatus.PAID);
  });
});
