import * as hdr from 'hdr-histogram-js';
import { WebSocket, type RawData } from 'ws';
import { framingOf, type Framing, type FramingName } from './framing.js';

/** The flow event the payers send; every server relays it to the creator. */
export const RELAYED_EVENT = 'PAYMENT_METHOD_CHANGED';

/** Largest latency a histogram tracks, in microseconds; longer ones count as this. */
const MAX_TRACKED_MICROS = 60_000_000;

/** Error messages kept per phase for the report. */
const MAX_ERROR_SAMPLES = 5;

export interface SetupRequest {
  port: number;
  framing: FramingName;
  /** Rooms to fill, each with one CREATOR and one PAYER connection. */
  roomIds: string[];
  /** Connections opened per second, creators and payers together. */
  connectRate: number;
  /** Time one connection may take to open and join, in ms. */
  timeoutMs: number;
}

export interface SetupResult {
  /** Connections that opened and joined their room. */
  joined: number;
  failed: number;
  errorSamples: string[];
  /**
   * Time from each connection's scheduled start to its `ROOM_JOINED`, in
   * microseconds: an HDR histogram from `encodeIntoCompressedBase64`.
   */
  connectTimes: string;
}

export interface LoadRequest {
  /** Offered events per second across all rooms, on a fixed schedule. */
  rate: number;
  /** Events to send, spread over the rooms in turn. */
  count: number;
  /** Time to wait for stragglers after the last send, in ms. */
  drainMs: number;
}

export interface LoadResult {
  sent: number;
  /** Events that reached their room's creator. */
  received: number;
  /** `ACK`s the payers got. */
  acked: number;
  /** `ERROR` frames and unexpected closes. */
  errors: number;
  errorSamples: string[];
  /** Rooms whose creator got at least one of this load's events. */
  roomsDelivered: number;
  /** Scheduled send time to arrival at the creator, in microseconds (encoded HDR histogram). */
  latency: string;
  /** Actual minus scheduled send time, in microseconds (encoded HDR histogram). */
  sendLag: string;
  /** From the first scheduled send to the last arrival, or to the end of the drain, in ms. */
  elapsedMs: number;
  /** CPU time this generator process used during the load, in microseconds. */
  generatorCpuMicros: number;
}

/** Load generator interface that the harness and the smoke test drive, in-process or over IPC. */
export interface GeneratorClient {
  setup(request: SetupRequest): Promise<SetupResult>;
  load(request: LoadRequest): Promise<LoadResult>;
  close(): Promise<void>;
}

interface Pair {
  roomId: string;
  creator: WebSocket;
  payer: WebSocket;
}

interface ActiveLoad {
  tag: string;
  count: number;
  sent: number;
  received: number;
  acked: number;
  errors: number;
  errorSamples: string[];
  delivered: Uint8Array;
  latency: hdr.Histogram;
  sendLag: hdr.Histogram;
  startMs: number;
  lastArrivalMs: number;
  sendingDone: boolean;
  finish?: () => void;
}

export function createHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKED_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

function recordMicros(histogram: hdr.Histogram, micros: number): void {
  histogram.recordValue(
    Math.max(0, Math.min(Math.round(micros), MAX_TRACKED_MICROS)),
  );
}

const nowMicros = (): number => Math.round(performance.now() * 1000);

const EVENT_ID_KEY = '"eventId":"';

/**
 * Reads the load tag, sequence number and scheduled send time from a frame
 * that carries one of this generator's `eventId`s: `TAG-SEQ-SCHEDULED`, the
 * last two in base 36 and the time in microseconds of `performance.now()`.
 */
function parseEventId(
  text: string,
): { tag: string; seq: number; scheduledMicros: number } | undefined {
  const start = text.indexOf(EVENT_ID_KEY);
  if (start < 0) {
    return undefined;
  }
  const idStart = start + EVENT_ID_KEY.length;
  const idEnd = text.indexOf('"', idStart);
  const [tag, seq, scheduled] = text.slice(idStart, idEnd).split('-');
  if (scheduled === undefined) {
    return undefined;
  }
  return {
    tag,
    seq: parseInt(seq, 36),
    scheduledMicros: parseInt(scheduled, 36),
  };
}

/**
 * An open-loop load generator. `setup` opens the rooms at a fixed connection
 * rate. `load` sends `PAYMENT_METHOD_CHANGED` from the payers on a fixed
 * schedule and measures latency from each event's scheduled send time. A
 * stalled server or generator therefore shows up as latency, not as fewer
 * samples (no coordinated omission). The scheduled time travels in the
 * event's `eventId`.
 */
export class LoadGenerator implements GeneratorClient {
  private readonly pairs: Pair[] = [];
  private readonly sockets = new Set<WebSocket>();
  private framing: Framing = framingOf('json');
  private active?: ActiveLoad;
  private loads = 0;
  private closing = false;

  async setup(request: SetupRequest): Promise<SetupResult> {
    this.framing = framingOf(request.framing);
    const url = this.framing.url(request.port);
    const connectTimes = createHistogram();
    const errorSamples: string[] = [];
    let joined = 0;
    let failed = 0;

    const intervalMs = 1000 / request.connectRate;
    const startMs = performance.now();
    const openings: Promise<void>[] = [];
    const open = (roomId: string, role: 'CREATOR' | 'PAYER', index: number) =>
      this.openMember(url, roomId, role, request.timeoutMs)
        .then((socket) => {
          joined += 1;
          recordMicros(
            connectTimes,
            (performance.now() - (startMs + index * intervalMs)) * 1000,
          );
          return socket;
        })
        .catch((error: unknown) => {
          failed += 1;
          addSample(errorSamples, describeError(error));
          return undefined;
        });

    for (const [roomIndex, roomId] of request.roomIds.entries()) {
      const creatorIndex = roomIndex * 2;
      await sleepUntil(startMs + creatorIndex * intervalMs);
      const creator = open(roomId, 'CREATOR', creatorIndex);
      await sleepUntil(startMs + (creatorIndex + 1) * intervalMs);
      const payer = open(roomId, 'PAYER', creatorIndex + 1);
      openings.push(
        Promise.all([creator, payer]).then(([creatorSocket, payerSocket]) => {
          if (creatorSocket && payerSocket) {
            this.addPair(roomId, creatorSocket, payerSocket);
          }
        }),
      );
    }
    await Promise.all(openings);

    return {
      joined,
      failed,
      errorSamples,
      connectTimes: hdr.encodeIntoCompressedBase64(connectTimes),
    };
  }

  load(request: LoadRequest): Promise<LoadResult> {
    if (this.active) {
      return Promise.reject(new Error('A load is already running'));
    }
    if (this.pairs.length === 0) {
      return Promise.reject(new Error('No room is ready: run setup first'));
    }

    this.loads += 1;
    const intervalMs = 1000 / request.rate;
    const load: ActiveLoad = {
      tag: `L${this.loads}`,
      count: request.count,
      sent: 0,
      received: 0,
      acked: 0,
      errors: 0,
      errorSamples: [],
      delivered: new Uint8Array(this.pairs.length),
      latency: createHistogram(),
      sendLag: createHistogram(),
      startMs: performance.now() + 1,
      lastArrivalMs: 0,
      sendingDone: false,
    };
    this.active = load;
    const cpuAtStart = process.cpuUsage();

    return new Promise<LoadResult>((resolve) => {
      let drainTimer: NodeJS.Timeout | undefined;
      load.finish = () => {
        clearTimeout(drainTimer);
        this.active = undefined;
        const cpu = process.cpuUsage(cpuAtStart);
        const endMs =
          load.lastArrivalMs > 0 ? load.lastArrivalMs : performance.now();
        resolve({
          sent: load.sent,
          received: load.received,
          acked: load.acked,
          errors: load.errors,
          errorSamples: load.errorSamples,
          roomsDelivered: load.delivered.reduce((sum, value) => sum + value, 0),
          latency: hdr.encodeIntoCompressedBase64(load.latency),
          sendLag: hdr.encodeIntoCompressedBase64(load.sendLag),
          elapsedMs: endMs - load.startMs,
          generatorCpuMicros: cpu.user + cpu.system,
        });
      };

      // Sends every event whose time has come, then sleeps until the next
      // one: on a timer when it is more than 2 ms away, otherwise on
      // `setImmediate`, which still lets the received frames in between.
      const tick = () => {
        const now = performance.now();
        while (load.sent < load.count) {
          const scheduledMs = load.startMs + load.sent * intervalMs;
          if (scheduledMs > now) {
            break;
          }
          this.sendEvent(load, scheduledMs, now);
        }
        if (load.sent < load.count) {
          const waitMs =
            load.startMs + load.sent * intervalMs - performance.now();
          if (waitMs > 2) {
            setTimeout(tick, waitMs - 1);
          } else {
            setImmediate(tick);
          }
          return;
        }
        load.sendingDone = true;
        if (this.isComplete(load)) {
          load.finish?.();
          return;
        }
        drainTimer = setTimeout(() => load.finish?.(), request.drainMs);
      };
      tick();
    });
  }

  close(): Promise<void> {
    this.closing = true;
    for (const socket of this.sockets) {
      socket.terminate();
    }
    this.sockets.clear();
    this.pairs.length = 0;
    return Promise.resolve();
  }

  private sendEvent(
    load: ActiveLoad,
    scheduledMs: number,
    nowMs: number,
  ): void {
    const seq = load.sent;
    const pair = this.pairs[seq % this.pairs.length];
    const eventId = `${load.tag}-${seq.toString(36)}-${Math.round(scheduledMs * 1000).toString(36)}`;
    const data = `{"roomId":"${pair.roomId}","method":"PIX","eventId":"${eventId}"}`;
    if (pair.payer.readyState === WebSocket.OPEN) {
      pair.payer.send(this.framing.encode(RELAYED_EVENT, data));
    }
    recordMicros(load.sendLag, (nowMs - scheduledMs) * 1000);
    load.sent += 1;
  }

  private isComplete(load: ActiveLoad): boolean {
    return (
      load.sendingDone &&
      load.received >= load.count &&
      load.acked >= load.count
    );
  }

  private onCreatorFrame(text: string): void {
    const event = this.framing.eventOf(text);
    const load = this.active;
    if (!load) {
      return;
    }
    if (event === 'ERROR') {
      this.recordError(load, text);
      return;
    }
    if (event !== RELAYED_EVENT) {
      return;
    }
    const id = parseEventId(text);
    if (!id || id.tag !== load.tag) {
      return;
    }
    recordMicros(load.latency, nowMicros() - id.scheduledMicros);
    load.delivered[id.seq % load.delivered.length] = 1;
    load.received += 1;
    load.lastArrivalMs = performance.now();
    if (this.isComplete(load)) {
      load.finish?.();
    }
  }

  private onPayerFrame(text: string): void {
    const event = this.framing.eventOf(text);
    const load = this.active;
    if (!load) {
      return;
    }
    if (event === 'ERROR') {
      this.recordError(load, text);
      return;
    }
    if (event !== 'ACK' || parseEventId(text)?.tag !== load.tag) {
      return;
    }
    load.acked += 1;
    if (this.isComplete(load)) {
      load.finish?.();
    }
  }

  private recordError(load: ActiveLoad, message: string): void {
    load.errors += 1;
    addSample(load.errorSamples, message);
  }

  private addPair(roomId: string, creator: WebSocket, payer: WebSocket): void {
    this.pairs.push({ roomId, creator, payer });
    const listen = (socket: WebSocket, onFrame: (text: string) => void) => {
      socket.on('message', (raw: RawData) => {
        const text = (raw as Buffer).toString();
        if (!this.framing.handleControl(socket, text)) {
          onFrame(text);
        }
      });
      socket.on('close', (code) => {
        if (!this.closing && this.active) {
          this.recordError(this.active, `connection closed with ${code}`);
        }
      });
    };
    listen(creator, (text) => this.onCreatorFrame(text));
    listen(payer, (text) => this.onPayerFrame(text));
  }

  /** Opens one connection and joins it to the room; rejects on any failure. */
  private async openMember(
    url: string,
    roomId: string,
    role: 'CREATOR' | 'PAYER',
    timeoutMs: number,
  ): Promise<WebSocket> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    this.sockets.add(socket);
    // The handshake listens before the socket opens: `ws` emits the frames
    // that arrived with the upgrade response right after 'open'.
    const handshake = this.framing.handshake(socket, timeoutMs);
    handshake.catch(() => undefined);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        }),
        timeoutMs,
        'open',
      );
      await handshake;
      const joined = new Promise<void>((resolve, reject) => {
        const onMessage = (raw: RawData) => {
          const text = (raw as Buffer).toString();
          const event = this.framing.eventOf(text);
          if (event === 'ROOM_JOINED') {
            socket.off('message', onMessage);
            resolve();
          } else if (event === 'ERROR') {
            socket.off('message', onMessage);
            reject(new Error(`JOIN_ROOM rejected: ${text.slice(0, 200)}`));
          }
        };
        socket.on('message', onMessage);
        socket.once('close', (code) =>
          reject(
            new Error(`connection closed with ${code} before ROOM_JOINED`),
          ),
        );
      });
      socket.send(
        this.framing.encode(
          'JOIN_ROOM',
          `{"roomId":"${roomId}","role":"${role}"}`,
        ),
      );
      await withTimeout(joined, timeoutMs, 'JOIN_ROOM');
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      return socket;
    } catch (error) {
      socket.terminate();
      this.sockets.delete(socket);
      throw error;
    }
  }
}

function addSample(samples: string[], message: string): void {
  if (samples.length < MAX_ERROR_SAMPLES) {
    samples.push(message.slice(0, 200));
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleepUntil(timeMs: number): Promise<void> {
  const waitMs = timeMs - performance.now();
  return waitMs > 1
    ? new Promise((resolve) => setTimeout(resolve, waitMs))
    : Promise.resolve();
}

async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  step: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${step} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
