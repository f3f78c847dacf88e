/**
 * Simulates one payment through a running relay with two devices, each a
 * separate child process using the client library: a creator that prints
 * the timeline of what it receives, and a payer that walks the checkout.
 *
 *     node dist/cli/simulate.js [--url ws://127.0.0.1:8080/ws] [--fail-first]
 *
 * Exits with 0 when the creator received every expected event in order and
 * the payer every ACK, and with 1 otherwise.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import {
  ClientEvent,
  RelayClient,
  Role,
  type AckData,
  type RelayRoom,
} from '../client/index.js';

const DEFAULT_URL = 'ws://127.0.0.1:8080/ws';
const DEFAULT_TIMEOUT_MS = 15_000;

const USAGE = `Usage: node dist/cli/simulate.js [options]

Runs a creator and a payer, each in its own process, through one payment.

Options:
  --url URL          WebSocket endpoint of the relay (default ${DEFAULT_URL})
  --fail-first       the first payment attempt fails with PAYMENT_ERROR and
                     the payer retries
  --timeout MS       time each device waits for the whole flow, in ms
                     (default ${DEFAULT_TIMEOUT_MS})
  --help             print this help
`;

interface Settings {
  url: string;
  failFirst: boolean;
  timeoutMs: number;
  role?: 'creator' | 'payer';
  roomId?: string;
}

/** A payer step: the event it sends and how to send it. */
interface Step {
  event: string;
  send: (room: RelayRoom) => Promise<AckData>;
}

function payerSteps(failFirst: boolean): Step[] {
  const steps: Step[] = [
    {
      event: ClientEvent.ENTERED_SUMMARY,
      send: (room) => room.enteredSummary(),
    },
    {
      event: ClientEvent.CLICKED_PROCEED,
      send: (room) => room.clickedProceed(),
    },
    {
      event: ClientEvent.PAYMENT_METHOD_CHANGED,
      send: (room) => room.paymentMethodChanged('CREDIT_CARD'),
    },
    {
      event: ClientEvent.DATA_FILLED,
      send: (room) => room.dataFilled(['cardNumber', 'expiry', 'cvv']),
    },
    { event: ClientEvent.CLICKED_PAY, send: (room) => room.clickedPay() },
  ];
  if (failFirst) {
    steps.push(
      {
        event: ClientEvent.PAYMENT_ERROR,
        send: (room) => room.paymentFailed('CARD_DECLINED', 'Card declined'),
      },
      { event: ClientEvent.CLICKED_PAY, send: (room) => room.clickedPay() },
    );
  }
  steps.push({
    event: ClientEvent.PAYMENT_SUCCESS,
    send: (room) =>
      room.paymentSucceeded({
        transactionId: `tx-${randomUUID().slice(0, 8)}`,
        amount: 12_990,
        currency: 'BRL',
      }),
  });
  return steps;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: DEFAULT_URL },
      'fail-first': { type: 'boolean', default: false },
      timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_MS) },
      role: { type: 'string' },
      room: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(
      `--timeout must be a positive whole number of ms, got "${values.timeout}"`,
    );
  }
  if (!/^wss?:\/\//.test(values.url)) {
    throw new Error(
      `--url must start with ws:// or wss://, got "${values.url}"`,
    );
  }
  if (
    values.role !== undefined &&
    values.role !== 'creator' &&
    values.role !== 'payer'
  ) {
    throw new Error(`--role must be creator or payer, got "${values.role}"`);
  }
  return {
    url: values.url,
    failFirst: values['fail-first'],
    timeoutMs,
    role: values.role,
    roomId: values.room,
  };
}

function print(role: string, line: string): void {
  process.stdout.write(`[${role.padEnd(7)}] ${line}\n`);
}

function newClient(settings: Settings, clientId: string): RelayClient {
  const client = new RelayClient({
    url: settings.url,
    WebSocket,
    clientId,
    requestTimeoutMs: settings.timeoutMs,
    maxReconnectAttempts: 5,
  });
  client.on('state', ({ state, previous, closeCode }) =>
    print(
      clientId.split('-')[0],
      `connection ${previous} -> ${state}${closeCode === undefined ? '' : ` (close code ${closeCode})`}`,
    ),
  );
  return client;
}

/** Runs the creator: joins, prints each event with its latency and checks the sequence. */
async function runCreator(settings: Settings, roomId: string): Promise<number> {
  const expected = [
    ...payerSteps(settings.failFirst).map((step) => step.event),
  ];
  const client = newClient(settings, `creator-${randomUUID().slice(0, 8)}`);
  const received: string[] = [];
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  try {
    await client.connect();
    const room = await client.joinRoom(roomId, Role.CREATOR, {
      expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    });
    print('creator', `joined room ${roomId} as ${room.clientId}`);
    room.on('peerJoined', (peer) =>
      print('creator', `peer joined: ${peer.role} ${peer.clientId}`),
    );
    room.on('status', ({ status, previous }) =>
      print('creator', `status ${previous} -> ${status}`),
    );
    room.on('claimedResult', (claim) => {
      if (claim) {
        print(
          'creator',
          `the payer reports ${claim.event} (unverified: wait for the payment backend before showing it as final)`,
        );
      }
    });
    room.on('event', ({ event, data }) => {
      const latencyMs = Date.now() - Date.parse(data.at);
      received.push(event);
      print(
        'creator',
        `seq ${String(data.seq).padStart(2)}  ${event.padEnd(22)} ${String(latencyMs).padStart(4)} ms after the server accepted it`,
      );
      if (received.length >= expected.length) {
        finish?.();
      }
    });
    process.send?.({ type: 'ready' });

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, settings.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Let the batched RECEIVED reach the server before closing.
    await new Promise((resolve) =>
      setTimeout(resolve, client.options.receiptDelayMs * 2),
    );
  } finally {
    client.close();
  }

  const inOrder =
    received.length === expected.length &&
    received.every((event, index) => event === expected[index]);
  if (inOrder) {
    print('creator', `all ${expected.length} events arrived, in order`);
    return 0;
  }
  print(
    'creator',
    `FAILED: expected ${expected.join(', ')}; received ${received.join(', ') || 'nothing'}`,
  );
  return 1;
}

/** Runs the payer: walks the checkout and waits for the creator's receipt of the last event. */
async function runPayer(settings: Settings, roomId: string): Promise<number> {
  const client = newClient(settings, `payer-${randomUUID().slice(0, 8)}`);
  try {
    await client.connect();
    const room = await client.joinRoom(roomId, Role.PAYER);
    print('payer', `joined room ${roomId} as ${room.clientId}`);
    let lastSeq = 0;
    let confirmed: (() => void) | undefined;
    const lastConfirmed = new Promise<void>((resolve) => (confirmed = resolve));
    room.on('delivered', ({ seq, clientId }) => {
      print('payer', `DELIVERED: ${clientId} has every event up to seq ${seq}`);
      if (lastSeq > 0 && seq >= lastSeq) {
        confirmed?.();
      }
    });

    for (const step of payerSteps(settings.failFirst)) {
      const started = Date.now();
      const ack = await step.send(room);
      lastSeq = ack.seq;
      print(
        'payer',
        `${step.event.padEnd(22)} ACK seq ${ack.seq} in ${Date.now() - started} ms, delivered to ${ack.deliveredTo}${ack.duplicate ? ' (duplicate)' : ''}`,
      );
    }

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      lastConfirmed.then(() => 'confirmed' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), settings.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      print('payer', `FAILED: no DELIVERED for seq ${lastSeq}`);
      return 1;
    }
    return 0;
  } catch (error) {
    print(
      'payer',
      `FAILED: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    client.close();
  }
}

function childArguments(settings: Settings, role: string, roomId: string) {
  return [
    '--role',
    role,
    '--room',
    roomId,
    '--url',
    settings.url,
    '--timeout',
    String(settings.timeoutMs),
    ...(settings.failFirst ? ['--fail-first'] : []),
  ];
}

function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

/** Starts the creator, then the payer once the creator joined, and waits for both. */
async function runBoth(settings: Settings): Promise<number> {
  const roomId = `sim-${randomUUID().slice(0, 8)}`;
  const script = fileURLToPath(import.meta.url);
  process.stdout.write(
    `Simulating room ${roomId} against ${settings.url}${settings.failFirst ? ' (first attempt fails)' : ''}\n`,
  );

  const creator = fork(script, childArguments(settings, 'creator', roomId));
  const creatorExit = exitCodeOf(creator);
  const ready = await Promise.race([
    new Promise<boolean>((resolve) =>
      creator.once('message', () => resolve(true)),
    ),
    creatorExit.then(() => false),
  ]);
  if (!ready) {
    process.stdout.write('The creator stopped before joining the room\n');
    return 1;
  }

  const started = Date.now();
  const payer = fork(script, childArguments(settings, 'payer', roomId));
  const [creatorCode, payerCode] = await Promise.all([
    creatorExit,
    exitCodeOf(payer),
  ]);
  const verdict = creatorCode === 0 && payerCode === 0 ? 'passed' : 'FAILED';
  process.stdout.write(
    `Simulation ${verdict} in ${Date.now() - started} ms (creator exit ${creatorCode}, payer exit ${payerCode})\n`,
  );
  return verdict === 'passed' ? 0 : 1;
}

async function main(): Promise<number> {
  const settings = parseSettings(process.argv.slice(2));
  if (settings.role && settings.roomId) {
    return settings.role === 'creator'
      ? runCreator(settings, settings.roomId)
      : runPayer(settings, settings.roomId);
  }
  return runBoth(settings);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `simulate: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
