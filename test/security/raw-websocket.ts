import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export interface FrameOptions {
  opcode?: number;
  fin?: boolean;
  /** Reserved bits RSV1-RSV3 as a number from 0 to 7. */
  rsv?: number;
  /** Clients must mask; `false` sends an unmasked frame, which is a protocol violation. */
  masked?: boolean;
  /** Overrides the length written in the header. */
  declaredLength?: bigint;
}

/** Encodes one WebSocket frame as a client would, with full control over every header bit. */
export function encodeFrame(
  payload: Buffer | string,
  options: FrameOptions = {},
): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? BigInt(data.length);

  const first =
    (fin ? 0x80 : 0) |
    ((options.rsv ?? 0) << 4) |
    (options.opcode ?? Opcode.TEXT);
  let header: Buffer;
  if (length < 126n) {
    header = Buffer.from([first, (masked ? 0x80 : 0) | Number(length)]);
  } else if (length < 65536n) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!masked) {
    return Buffer.concat([header, data]);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) {
    body[i] ^= mask[i % 4];
  }
  return Buffer.concat([header, mask, body]);
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client on a bare TCP socket, for sending frames that no
 * well-behaved library would produce. It parses the server's frames and
 * records the close code the server sent.
 */
export class RawWebSocket {
  readonly frames: ServerFrame[] = [];
  /** Close code of the server's close frame, `undefined` when none came before the socket ended. */
  closeCode?: number;
  readonly ended: Promise<void>;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        this.wake();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  /** Opens a TCP connection to 127.0.0.1 and completes the upgrade handshake. */
  static open(port: number, path = '/ws'): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let response = '';
      const onData = (chunk: Buffer) => {
        response += chunk.toString('latin1');
        const end = response.indexOf('\r\n\r\n');
        if (end < 0) {
          return;
        }
        socket.off('data', onData);
        if (!response.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`upgrade failed: ${response.split('\r\n')[0]}`));
          return;
        }
        const client = new RawWebSocket(socket);
        const rest = Buffer.from(response.slice(end + 4), 'latin1');
        if (rest.length > 0) {
          client.receive(rest);
        }
        resolve(client);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.write(
          [
            `GET ${path} HTTP/1.1`,
            `Host: 127.0.0.1:${port}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
            'Sec-WebSocket-Version: 13',
            '',
            '',
          ].join('\r\n'),
        );
      });
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Writes bytes one at a time, each in its own TCP segment where the kernel allows. */
  async writeByteByByte(bytes: Buffer): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      await this.write(bytes.subarray(i, i + 1));
    }
  }

  /** Waits for the next text frame and parses it as JSON. */
  async nextMessage(
    timeoutMs = 3_000,
  ): Promise<{ event: string; data: Record<string, unknown> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(
        (frame) => frame.opcode === Opcode.TEXT,
      );
      if (index >= 0) {
        const [frame] = this.frames.splice(index, 1);
        return JSON.parse(frame.payload.toString('utf8')) as {
          event: string;
          data: Record<string, unknown>;
        };
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.socket.destroyed) {
        throw new Error('no text frame from the server');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) {
        return;
      }
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) {
          return;
        }
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) {
          return;
        }
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) {
        return;
      }
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === Opcode.CLOSE && payload.length >= 2) {
        this.closeCode = payload.readUInt16BE(0);
      }
      this.frames.push({ opcode, payload: Buffer.from(payload) });
      this.wake();
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter();
    }
  }
}
