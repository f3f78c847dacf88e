import { WebSocket } from 'ws';
import {
  ClientEvent,
  RelayClient,
  type ConnectionState,
  type RelayClientOptions,
  type RelayedEvent,
  type RelayRoom,
} from '../../src/client/index.js';

/** Short timings so that faults resolve within a test's time. */
export const FAST_CLIENT: Omit<RelayClientOptions, 'url'> = {
  WebSocket,
  reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  pingIntervalMs: 500,
  livenessTimeoutMs: 5_000,
  requestTimeoutMs: 20_000,
  receiptDelayMs: 20,
};

export function fastClient(
  url: string,
  overrides: Partial<RelayClientOptions> = {},
): RelayClient {
  return new RelayClient({ ...FAST_CLIENT, ...overrides, url });
}

/** The checkout the payer walks, in order. */
export const FLOW = [
  ClientEvent.ENTERED_SUMMARY,
  ClientEvent.CLICKED_PROCEED,
  ClientEvent.PAYMENT_METHOD_CHANGED,
  ClientEvent.DATA_FILLED,
  ClientEvent.CLICKED_PAY,
  ClientEvent.PAYMENT_SUCCESS,
] as const;

/** Sends the flow event at `index` of `FLOW` and returns its `ACK`. */
export function sendStep(room: RelayRoom, index: number) {
  switch (FLOW[index]) {
    case ClientEvent.ENTERED_SUMMARY:
      return room.enteredSummary();
    case ClientEvent.CLICKED_PROCEED:
      return room.clickedProceed();
    case ClientEvent.PAYMENT_METHOD_CHANGED:
      return room.paymentMethodChanged('PIX');
    case ClientEvent.DATA_FILLED:
      return room.dataFilled(['name', 'document']);
    case ClientEvent.CLICKED_PAY:
      return room.clickedPay();
    case ClientEvent.PAYMENT_SUCCESS:
      return room.paymentSucceeded({
        transactionId: 'tx-1',
        amount: 1_000,
        currency: 'BRL',
      });
  }
}

/** Every event a room handed to its listeners, in the order it handed them. */
export class EventLog {
  readonly events: RelayedEvent[] = [];
  private readonly waiters: {
    done: () => boolean;
    resolve: () => void;
  }[] = [];

  constructor(room: RelayRoom) {
    room.on('event', (frame) => {
      this.events.push(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.done()) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }

  get seqs(): number[] {
    return this.events.map((frame) => frame.data.seq);
  }

  get names(): string[] {
    return this.events.map((frame) => frame.event);
  }

  /** Resolves once an event with `seq` or higher was handed. */
  untilSeq(seq: number, timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.events.some((frame) => frame.data.seq >= seq),
      timeoutMs,
      `seq ${seq}`,
    );
  }

  /** Resolves once `count` events were handed in total. */
  untilCount(count: number, timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.events.length >= count,
      timeoutMs,
      `${count} events`,
    );
  }

  private until(
    done: () => boolean,
    timeoutMs: number,
    description: string,
  ): Promise<void> {
    if (done()) {
      return Promise.resolve();
    }
    return withTimeout(
      new Promise<void>((resolve) => this.waiters.push({ done, resolve })),
      timeoutMs,
      `${description}; handed so far: ${JSON.stringify(this.seqs)}`,
    );
  }
}

/** Resolves when the client enters `state`. */
export function untilState(
  client: RelayClient,
  state: ConnectionState,
  timeoutMs = 10_000,
): Promise<void> {
  if (client.state === state) {
    return Promise.resolve();
  }
  return withTimeout(
    new Promise<void>((resolve) => {
      const remove = client.on('state', (change) => {
        if (change.state === state) {
          remove();
          resolve();
        }
      });
    }),
    timeoutMs,
    `connection state ${state}`,
  );
}

/** Resolves with the listener arguments of the room's next `event`. */
export function untilRoomEvent<K extends 'joined' | 'reset' | 'delivered'>(
  room: RelayRoom,
  event: K,
  timeoutMs = 10_000,
) {
  type Args = Parameters<Parameters<typeof room.on<K>>[1]>[0];
  return withTimeout(
    new Promise<Args>((resolve) => {
      room.once(event, (value: Args) => resolve(value));
    }),
    timeoutMs,
    `room event ${event}`,
  );
}

export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  description: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${description}`,
          ),
        ),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
