import { ErrorCode, Role, type RelayClient } from '../../src/client/index.js';
import { RelayEvents } from '../../src/relay/relay-events.js';
import {
  describeWithRedis,
  OwnRedisServer,
  redisServerUnavailableReason,
} from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  EventLog,
  fastClient,
  untilRoomEvent,
  withTimeout,
} from './client-fixture.js';

/**
 * Runs against a redis-server of its own, which it stops and starts, so it
 * needs the `redis-server` binary rather than the shared Redis.
 */
await describeWithRedis(
  'client library during a Redis outage',
  () => {
    let redis: OwnRedisServer;
    let server: TestServer;
    let proxy: TcpProxy;
    const clients: RelayClient[] = [];

    beforeAll(async () => {
      redis = await OwnRedisServer.start();
      server = await startTestServer({
        ROOM_STORE: 'redis',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'client-outage:',
        REDIS_COMMAND_TIMEOUT_MS: '300',
        REDIS_RECONNECT_MAX_DELAY_MS: '100',
      });
      proxy = await TcpProxy.start(server.port);
    });

    afterAll(async () => {
      for (const client of clients) {
        client.close();
      }
      await proxy?.close();
      await server?.close();
      await redis?.destroy();
    });

    it('retries a re-join rejected as UNAVAILABLE', async () => {
      const creator = fastClient(proxy.wsUrl(), { clientId: 'creator' });
      const payer = fastClient(server.wsUrl, { clientId: 'payer' });
      clients.push(creator, payer);
      await Promise.all([creator.connect(), payer.connect()]);
      const creatorRoom = await creator.joinRoom('outage', Role.CREATOR);
      const payerRoom = await payer.joinRoom('outage', Role.PAYER);
      const log = new EventLog(creatorRoom);
      await payerRoom.enteredSummary();
      await log.untilSeq(1);
      const stopped: Error[] = [];
      creatorRoom.on('stopped', (error) => stopped.push(error));

      const rejectedJoin = new Promise<void>((resolve) => {
        const events = server.app.get(RelayEvents);
        const listener = ({
          code,
          event,
        }: {
          code: string;
          event?: string;
        }) => {
          if (code === ErrorCode.UNAVAILABLE && event === 'JOIN_ROOM') {
            events.off('rejected', listener);
            resolve();
          }
        };
        events.on('rejected', listener);
      });
      await redis.stop();
      const rejoined = untilRoomEvent(creatorRoom, 'joined', 15_000);
      proxy.cutAll();
      await withTimeout(
        rejectedJoin,
        10_000,
        'a re-join rejected as UNAVAILABLE',
      );
      expect(creatorRoom.ended).toBe(false);
      await redis.restart();

      expect(await rejoined).toMatchObject({ rejoin: true });
      expect(stopped).toEqual([]);
      expect(creator.room('outage')).toBe(creatorRoom);
      await payerRoom.clickedProceed();
      await log.untilSeq(2);
    }, 30_000);
  },
  redisServerUnavailableReason,
);
