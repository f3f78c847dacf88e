import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Measures the relay's own CPU time per relayed event, without the network:
 * `node bench/build/dispatch-cost.js [RELAY_BUILD_DIR] [EVENTS]`.
 *
 * It starts the relay in this process from a production build (dist/ by
 * default) and joins rooms of two over real loopback connections. Then it
 * replaces `send` on the server's sockets with a counter and feeds
 * `PAYMENT_METHOD_CHANGED` frames straight into the payers' server-side
 * sockets. The CPU time per event therefore covers the adapter, Nest's
 * handler pipeline, validation, the rooms service, the store and frame
 * building. It leaves out `ws` framing and socket writes, which cost the
 * same in every variant. The optimisations in docs/benchmarks.md were
 * measured with it because it moves less than latency when other processes
 * share the CPU.
 */

interface RelayApp {
  app: {
    listen(port: number, host: string): Promise<unknown>;
    getHttpServer(): { address(): { port: number } };
    close(): Promise<void>;
  };
}

type CreateRelayApp = (
  environment: Record<string, string>,
) => Promise<RelayApp>;

const ROOMS = 100;
const BATCH = 50;

async function main(): Promise<void> {
  const buildDir = resolve(process.argv[2] ?? 'dist');
  const events = Number(process.argv[3] ?? 100_000);

  // Every server-side socket, in connection order, captured before the
  // relay's own 'connection' listener runs.
  const serverSockets: WebSocket[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the server as `this`
  const emit = WebSocketServer.prototype.emit;
  WebSocketServer.prototype.emit = function (
    this: WebSocketServer,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    if (event === 'connection') {
      serverSockets.push(args[0] as WebSocket);
    }
    return emit.call(this, event, ...args);
  };

  const { createRelayApp } = (await import(
    pathToFileURL(join(buildDir, 'app.factory.js')).href
  )) as { createRelayApp: CreateRelayApp };
  const { app } = await createRelayApp({
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    AUTH_MODE: 'none',
    ADMIN_TOKEN: 'dispatch-cost-admin-token',
    HEARTBEAT_INTERVAL_MS: '600000',
    ROOM_MAX_EVENTS: '1000000',
    RATE_LIMIT_PER_SECOND: '10000000',
    RATE_LIMIT_BURST: '10000000',
    MAX_CONNECTIONS_PER_IP: '100000',
    MAX_ROOMS_CREATED_PER_IP_PER_MINUTE: '1000000',
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();

  const clients: WebSocket[] = [];
  const payers: WebSocket[] = [];
  for (let room = 0; room < ROOMS; room++) {
    for (const role of ['CREATOR', 'PAYER']) {
      const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      clients.push(client);
      await new Promise((resolve) => client.once('open', resolve));
      const joined = new Promise((resolve) => client.once('message', resolve));
      client.send(
        JSON.stringify({
          event: 'JOIN_ROOM',
          data: { roomId: `r${room}`, role },
        }),
      );
      await joined;
      if (role === 'PAYER') {
        payers.push(serverSockets[serverSockets.length - 1]);
      }
    }
  }

  let sent = 0;
  for (const socket of serverSockets) {
    socket.send = () => {
      sent += 1;
    };
  }

  const feed = async (count: number, tag: string) => {
    for (let index = 0; index < count; index++) {
      const frame = Buffer.from(
        `{"event":"PAYMENT_METHOD_CHANGED","data":{"roomId":"r${index % ROOMS}","method":"PIX","eventId":"${tag}-${index.toString(36)}"}}`,
      );
      payers[index % ROOMS].emit('message', frame, false);
      if (index % BATCH === BATCH - 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  };

  await feed(Math.min(events, 20_000), 'warm');
  sent = 0;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  await feed(events, 'run');
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = performance.now() - startedAt;

  const expected = events * 2;
  console.log(
    JSON.stringify({
      buildDir,
      events,
      cpuMicrosPerEvent:
        Math.round(((cpu.user + cpu.system) / events) * 100) / 100,
      wallMicrosPerEvent: Math.round(((elapsedMs * 1000) / events) * 100) / 100,
      framesSent: sent,
      framesExpected: expected,
    }),
  );

  for (const client of clients) {
    client.terminate();
  }
  await app.close();
  process.exit(sent === expected ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
