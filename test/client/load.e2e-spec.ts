import { Role, type RelayClient } from '../../src/client/index.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { EventLog, FLOW, fastClient, sendStep } from './client-fixture.js';

const ROOMS = 200;
const CUT_SHARE = 0.1;
const SEED = 20_261_204;

/** Mulberry32: a small seeded generator, so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('client library under load with cuts', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  const clients: RelayClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      MAX_CONNECTIONS_PER_IP: '0',
      MAX_ROOMS_CREATED_PER_IP_PER_MINUTE: '0',
      RATE_LIMIT_PER_SECOND: '0',
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

  it('every creator ends with the whole ordered flow', async () => {
    const random = seededRandom(SEED);
    let creatorRejoins = 0;
    const rooms = await Promise.all(
      Array.from({ length: ROOMS }, async (_, index) => {
        const roomId = `load-${index}`;
        const creator = fastClient(proxy.wsUrl(), {
          clientId: `creator-${index}`,
          pingIntervalMs: 1_000,
        });
        const payer = fastClient(proxy.wsUrl(), {
          clientId: `payer-${index}`,
          pingIntervalMs: 1_000,
        });
        clients.push(creator, payer);
        await Promise.all([creator.connect(), payer.connect()]);
        const creatorRoom = await creator.joinRoom(roomId, Role.CREATOR);
        creatorRoom.on('joined', ({ rejoin }) => {
          if (rejoin) {
            creatorRejoins += 1;
          }
        });
        const payerRoom = await payer.joinRoom(roomId, Role.PAYER);
        return { creatorRoom, payerRoom, log: new EventLog(creatorRoom) };
      }),
    );

    // The cuts fall at random points of the overall progress, counted in
    // acknowledged payer events, so that every one lands mid-flow.
    const totalEvents = ROOMS * FLOW.length;
    const cutCount = Math.round(clients.length * CUT_SHARE);
    const cutPoints = Array.from({ length: cutCount }, () =>
      Math.floor(random() * totalEvents),
    ).sort((a, b) => a - b);
    let acknowledged = 0;
    let cutsDone = 0;
    const cutDue = () => {
      while (
        cutsDone < cutPoints.length &&
        acknowledged >= cutPoints[cutsDone]
      ) {
        const live = proxy.live;
        proxy.cut(live[Math.floor(random() * live.length)]);
        cutsDone += 1;
      }
    };

    await Promise.all(
      rooms.map(async ({ payerRoom }) => {
        for (let step = 0; step < FLOW.length; step += 1) {
          await sendStep(payerRoom, step);
          acknowledged += 1;
          cutDue();
        }
      }),
    );
    await Promise.all(
      rooms.map(({ log }) => log.untilCount(FLOW.length, 20_000)),
    );

    let checked = 0;
    for (const { log } of rooms) {
      expect(log.names).toEqual([...FLOW]);
      expect(log.seqs).toEqual([1, 2, 3, 4, 5, 6]);
      checked += log.events.length;
    }
    expect(checked).toBe(ROOMS * FLOW.length);
    process.stdout.write(
      `load: ${ROOMS} rooms, ${cutsDone} cuts across ${clients.length} connections, ${creatorRejoins} creator re-joins, ${checked} events checked in order\n`,
    );
  }, 30_000);
});
