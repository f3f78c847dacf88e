import { WebSocket, type RawData } from 'ws';
import type { Frame } from '../../src/protocol/index.js';

export interface CloseInfo {
  code: number;
  reason: string;
}

type Waiter = {
  matches: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
};

/** Default time a test waits for one frame, in ms. */
export const FRAME_TIMEOUT_MS = 3_000;

/**
 * A raw `ws` client for end-to-end tests. Every received frame is queued;
 * `next` takes the first queued frame that matches, or waits for one.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly waiters: Waiter[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: RawData, isBinary: boolean) =>
      this.receive(data, isBinary),
    );
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(
            new Error(
              `connection closed with ${code} while waiting for a frame`,
            ),
          );
        }
      });
    });
  }

  static connect(
    url: string,
    options: ConstructorParameters<typeof WebSocket>[2] = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(url, options);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(event: string, data?: unknown): void {
    this.socket.send(
      JSON.stringify(data === undefined ? { event } : { event, data }),
    );
  }

  sendRaw(payload: string | Buffer, options: { binary?: boolean } = {}): void {
    this.socket.send(payload, { binary: options.binary ?? false });
  }

  /** Takes the first frame of the given event (any event when absent), waiting up to `timeoutMs`. */
  next(event?: string, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    return this.nextMatching(
      (frame) => event === undefined || frame.event === event,
      timeoutMs,
      event ?? 'any frame',
    );
  }

  nextMatching(
    matches: (frame: Frame) => boolean,
    timeoutMs = FRAME_TIMEOUT_MS,
    description = 'a matching frame',
  ): Promise<Frame> {
    const index = this.frames.findIndex(matches);
    if (index >= 0) {
      return Promise.resolve(this.frames.splice(index, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${description}; queued: ${JSON.stringify(this.frames.map((frame) => frame.event))}`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a frame and returns the data of the next frame of `replyEvent`. */
  async request<T = Record<string, unknown>>(
    event: string,
    data: unknown,
    replyEvent = 'ACK',
  ): Promise<T> {
    this.send(event, data);
    const reply = await this.nextMatching(
      (frame) => frame.event === replyEvent || frame.event === 'ERROR',
      FRAME_TIMEOUT_MS,
      `${replyEvent} or ERROR`,
    );
    if (reply.event !== replyEvent) {
      throw new Error(`expected ${replyEvent}, got ${JSON.stringify(reply)}`);
    }
    return reply.data as T;
  }

  /** Sends an event and returns the `ERROR` it must produce. */
  async expectError(
    event: string,
    data: unknown,
  ): Promise<Record<string, unknown>> {
    this.send(event, data);
    const reply = await this.nextMatching(
      (frame) => frame.event === 'ERROR' || frame.event === 'ACK',
      FRAME_TIMEOUT_MS,
      'ERROR',
    );
    if (reply.event !== 'ERROR') {
      throw new Error(`expected ERROR, got ${JSON.stringify(reply)}`);
    }
    return reply.data as Record<string, unknown>;
  }

  join(
    roomId: string,
    role: 'CREATOR' | 'PAYER',
    extra: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    return this.request('JOIN_ROOM', { roomId, role, ...extra }, 'ROOM_JOINED');
  }

  /**
   * Waits until the server handled every frame sent before: the server
   * answers one connection's messages in order, so the `PONG` comes last.
   */
  async sync(): Promise<void> {
    await this.request('PING', undefined, 'PONG');
  }

  /** Frames received and not yet taken, of one event. */
  queued(event: string): Frame[] {
    return this.frames.filter((frame) => frame.event === event);
  }

  close(code?: number): Promise<CloseInfo> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      this.socket.close(code);
    }
    return this.closed;
  }

  terminate(): void {
    this.socket.terminate();
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      throw new Error('the server sent a binary frame');
    }
    const frame = JSON.parse(
      Buffer.from(data as Buffer).toString('utf8'),
    ) as Frame;
    const waiter = this.waiters.find((candidate) => candidate.matches(frame));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return;
    }
    this.frames.push(frame);
  }
}
