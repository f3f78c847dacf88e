import { startRawWsRelay, type RunningServer } from './raw-ws-relay.js';
import { startSocketIoRelay } from './socketio-relay.js';

/**
 * Entry point of a comparison server process:
 * `node serve.js raw-ws|socket.io PORT`. It listens on 127.0.0.1 and stops
 * on SIGTERM or SIGINT.
 */
async function main(): Promise<void> {
  const [kind, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid port "${portText}": expected 0 to 65535`);
  }

  let server: RunningServer;
  if (kind === 'raw-ws') {
    server = await startRawWsRelay(port);
  } else if (kind === 'socket.io') {
    server = await startSocketIoRelay(port);
  } else {
    throw new Error(`Unknown server "${kind}": expected raw-ws or socket.io`);
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void server.close().then(() => process.exit(0));
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
