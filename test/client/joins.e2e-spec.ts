import {
  ClientErrorCode,
  ErrorCode,
  Role,
  type RelayClient,
} from '../../src/client/index.js';
import { RelayEvents } from '../../src/relay/relay-events.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';
import { getJson } from '../support/wait-for.js';
import {
  EventLog,
  fastClient,
  untilRoomEvent,
  untilState,
} from './client-fixture.js';

interface RoomStats {
  members: { clientId: string; role: string }[];
}

describe('client library joins and re-joins', () => {
  let server: TestServer;
  let clients: RelayClient[];
  let roomNumber = 0;

  beforeAll(async () => {
    server = await startTestServer({
      RATE_LIMIT_PER_SECOND: '20',
      RATE_LIMIT_BURST: '4',
      RATE_LIMIT_CLOSE_AFTER: '1000',
    });
  });

  afterAll(() => server.close());

  beforeEach(() => {
    clients = [];
  });

  afterEach(() => {
    for (const client of clients) {
      client.close();
    }
  });

  function track(client: RelayClient): RelayClient {
    clients.push(client);
    return client;
  }

  function nextRoomId(): string {
    roomNumber += 1;
    return `joins-${roomNumber}`;
  }

  async function membersOf(roomId: string): Promise<RoomStats['members']> {
    const { status, body } = await getJson<RoomStats>(
      `${server.httpUrl}/stats/rooms/${roomId}`,
    );
    return status === 200 ? body.members : [];
  }

  it('matches a join error after a leave', async () => {
    const fullRoom = nextRoomId();
    const freeRoom = nextRoomId();
    const holder = await TestClient.connect(server.wsUrl);
    holder.send('JOIN_ROOM', {
      roomId: fullRoom,
      role: Role.PAYER,
      clientId: 'holder',
    });
    await holder.next('ROOM_JOINED');

    const client = track(fastClient(server.wsUrl, { clientId: 'dash-1' }));
    await client.connect();
    const rejected = client.joinRoom(fullRoom, Role.PAYER);
    const joined = client.joinRoom(freeRoom, Role.CREATOR);
    await client.leaveRoom(fullRoom);

    await expect(rejected).rejects.toMatchObject({
      code: ClientErrorCode.ROOM_LEFT,
    });
    await expect(joined).resolves.toMatchObject({ roomId: freeRoom });
    expect(client.room(freeRoom)).toBeDefined();
    expect(await membersOf(freeRoom)).toEqual([
      expect.objectContaining({ clientId: 'dash-1', role: Role.CREATOR }),
    ]);
    await holder.close();
  });

  it('leaves a room left mid-join', async () => {
    const roomId = nextRoomId();
    const client = track(fastClient(server.wsUrl, { clientId: 'dash-2' }));
    await client.connect();
    const joining = client.joinRoom(roomId, Role.CREATOR);
    await client.leaveRoom(roomId);

    await expect(joining).rejects.toMatchObject({
      code: ClientErrorCode.ROOM_LEFT,
    });
    expect(await membersOf(roomId)).toEqual([]);
  });

  it('does not hand the payer its own events after a re-join', async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const roomId = nextRoomId();
      const creator = track(fastClient(server.wsUrl, { clientId: 'creator' }));
      const payer = track(fastClient(proxy.wsUrl(), { clientId: 'payer' }));
      await Promise.all([creator.connect(), payer.connect()]);
      const creatorRoom = await creator.joinRoom(roomId, Role.CREATOR);
      const payerRoom = await payer.joinRoom(roomId, Role.PAYER);
      const payerLog = new EventLog(payerRoom);
      const creatorLog = new EventLog(creatorRoom);
      await payerRoom.enteredSummary();
      await payerRoom.clickedProceed();
      await payerRoom.clickedPay();
      await creatorLog.untilSeq(3);

      const rejoined = untilRoomEvent(payerRoom, 'joined');
      proxy.cutAll();
      await untilState(payer, 'reconnecting');
      expect(await rejoined).toMatchObject({ rejoin: true, seq: 3 });
      await payerRoom.paymentMethodChanged('PIX');

      expect(payerLog.seqs).toEqual([]);
      expect(payerRoom.lastSeq).toBe(4);
      await creatorLog.untilSeq(4);
      expect(creatorLog.seqs).toEqual([1, 2, 3, 4]);
    } finally {
      await proxy.close();
    }
  });

  it('settles every send under the rate limit', async () => {
    const roomId = nextRoomId();
    const creator = track(fastClient(server.wsUrl, { clientId: 'creator' }));
    const payer = track(fastClient(server.wsUrl, { clientId: 'payer' }));
    await Promise.all([creator.connect(), payer.connect()]);
    const creatorRoom = await creator.joinRoom(roomId, Role.CREATOR);
    const payerRoom = await payer.joinRoom(roomId, Role.PAYER);
    const creatorLog = new EventLog(creatorRoom);
    let rateLimited = 0;
    server.app.get(RelayEvents).on('rejected', ({ code }) => {
      if (code === ErrorCode.RATE_LIMITED) {
        rateLimited += 1;
      }
    });

    const sends = Array.from({ length: 12 }, (_, index) =>
      payerRoom.dataFilled([`field${index}`]),
    );
    const acks = await Promise.all(sends);

    expect(rateLimited).toBeGreaterThan(0);
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(12);
    await creatorLog.untilCount(12);
    expect(creatorLog.events).toHaveLength(12);
  });
});
