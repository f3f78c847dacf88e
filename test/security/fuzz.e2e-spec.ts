import type { Frame } from '../../src/protocol/index.js';
import { RoomsService } from '../../src/relay/rooms/rooms.service.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';
import { FrameFuzzer } from './frame-fuzzer.js';
import { encodeFrame, Opcode, RawWebSocket } from './raw-websocket.js';

/** Replay a failure with `FUZZ_SEED=<seed> npm test -- test/security/fuzz.e2e-spec.ts`. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const FRAME_COUNT = 3_000;
/** Largest generated frame; the server's limit is 16 KiB. */
const MAX_FRAME_BYTES = 15_000;
const FUZZ_ROOM = 'fuzz-room';
const PROTOTYPES = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
];

function prototypeKeys(): string[][] {
  return PROTOTYPES.map((prototype) =>
    Reflect.ownKeys(prototype).map(String).sort(),
  );
}

/** Runs the whole two-device flow in a fresh room and checks that it ends PAID. */
async function completeFlow(server: TestServer, roomId: string): Promise<void> {
  const creator = await TestClient.connect(server.wsUrl);
  const payer = await TestClient.connect(server.wsUrl);
  try {
    await creator.join(roomId, 'CREATOR');
    await payer.join(roomId, 'PAYER');
    await payer.request('ENTERED_SUMMARY', { roomId });
    await payer.request('PAYMENT_METHOD_CHANGED', { roomId, method: 'PIX' });
    await payer.request('CLICKED_PAY', { roomId });
    const ack = await payer.request('PAYMENT_SUCCESS', { roomId });
    expect(ack.seq).toBe(4);
    const result = await creator.next('PAYMENT_SUCCESS');
    expect(result.data).toMatchObject({ roomId, seq: 4 });
    const room = await server.app.get(RoomsService).getRoom(roomId);
    expect(room?.status).toBe('PAID');
  } finally {
    await creator.close();
    await payer.close();
  }
}

describe('protocol fuzzing', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      RATE_LIMIT_PER_SECOND: '0',
      MAX_ROOMS_CREATED_PER_IP_PER_MINUTE: '0',
      MAX_CONNECTIONS_PER_IP: '0',
    });
  });
  afterAll(() => server.close());

  it(`survives ${FRAME_COUNT} mutated frames (seed ${SEED})`, async () => {
    const rooms = server.app.get(RoomsService);
    const keysBefore = prototypeKeys();
    const heapBefore = process.memoryUsage().heapUsed;
    const creator = await TestClient.connect(server.wsUrl);
    const fuzzer = await TestClient.connect(server.wsUrl);
    await creator.join(FUZZ_ROOM, 'CREATOR');
    await fuzzer.join(FUZZ_ROOM, 'PAYER');
    const fuzz = new FrameFuzzer(SEED, FUZZ_ROOM);
    const internalErrors: string[] = [];

    for (let i = 0; i < FRAME_COUNT; i++) {
      const text = fuzz.next(MAX_FRAME_BYTES);
      const before = JSON.stringify(await rooms.getRoom(FUZZ_ROOM));

      fuzzer.sendRaw(text);
      // The server handles a connection's frames in order, so every reply
      // to the fuzzed frame arrives before the error for this barrier.
      const barrierRoom = `barrier-${i}`;
      fuzzer.send('LEAVE_ROOM', { roomId: barrierRoom });
      await fuzzer.nextMatching(
        (frame) =>
          frame.event === 'ERROR' &&
          String((frame.data as { message: string }).message).includes(
            `"${barrierRoom}"`,
          ),
        3_000,
        `the barrier after frame ${i}: ${text.slice(0, 200)}`,
      );
      const replies: Frame[] = fuzzer.frames.splice(0);

      const rejected =
        replies.length > 0 && replies.every((frame) => frame.event === 'ERROR');
      if (rejected) {
        const after = JSON.stringify(await rooms.getRoom(FUZZ_ROOM));
        if (after !== before) {
          throw new Error(
            `rejected frame ${i} changed the room: ${text.slice(0, 500)}`,
          );
        }
      }
      for (const reply of replies) {
        const data = reply.data as { code?: string; roomId?: string };
        if (reply.event === 'ERROR' && data.code === 'INTERNAL_ERROR') {
          internalErrors.push(text.slice(0, 300));
        }
        if (reply.event === 'ROOM_LEFT' && data.roomId === FUZZ_ROOM) {
          await fuzzer.join(FUZZ_ROOM, 'PAYER');
        }
      }
      creator.frames.splice(0);
    }

    expect(internalErrors).toEqual([]);
    expect(prototypeKeys()).toEqual(keysBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(heapGrowth).toBeLessThan(128 * 1024 * 1024);

    await fuzzer.sync();
    await completeFlow(server, 'after-json-fuzz');
    await creator.close();
    await fuzzer.close();
  });

  describe('raw frames', () => {
    let bystander: TestClient;
    const raws: RawWebSocket[] = [];
    const open = async () => {
      const raw = await RawWebSocket.open(server.port);
      raws.push(raw);
      return raw;
    };

    beforeAll(async () => {
      bystander = await TestClient.connect(server.wsUrl);
      await bystander.join('bystander', 'CREATOR');
    });
    afterEach(async () => {
      // The bystander's connection must survive every violation.
      await bystander.sync();
      for (const raw of raws.splice(0)) {
        raw.destroy();
      }
    });
    afterAll(async () => {
      await bystander.close();
      await completeFlow(server, 'after-raw-fuzz');
    });

    it('answers a binary frame with INVALID_MESSAGE', async () => {
      const raw = await open();
      await raw.write(
        encodeFrame(Buffer.from([0, 1, 2, 255]), { opcode: Opcode.BINARY }),
      );
      const reply = await raw.nextMessage();
      expect(reply.data.code).toBe('INVALID_MESSAGE');
    });

    it('reassembles a frame split at every byte', async () => {
      const raw = await open();
      const frame = encodeFrame(JSON.stringify({ event: 'PING' }));
      for (let split = 1; split < frame.length; split++) {
        await raw.write(frame.subarray(0, split));
        await raw.write(frame.subarray(split));
        const reply = await raw.nextMessage();
        expect(reply.event).toBe('PONG');
      }
    });

    it('reassembles a frame written one byte at a time', async () => {
      const raw = await open();
      const join = JSON.stringify({
        event: 'JOIN_ROOM',
        data: { roomId: 'byte-room', role: 'PAYER' },
      });
      await raw.writeByteByByte(encodeFrame(join));
      const reply = await raw.nextMessage();
      expect(reply.event).toBe('ROOM_JOINED');
    });

    it('reassembles a fragmented message', async () => {
      const raw = await open();
      const text = JSON.stringify({ event: 'PING' });
      await raw.write(encodeFrame(text.slice(0, 5), { fin: false }));
      await raw.write(
        encodeFrame(text.slice(5, 9), {
          fin: false,
          opcode: Opcode.CONTINUATION,
        }),
      );
      await raw.write(
        encodeFrame(text.slice(9), { opcode: Opcode.CONTINUATION }),
      );
      const reply = await raw.nextMessage();
      expect(reply.event).toBe('PONG');
    });

    it('survives truncated frames from a vanishing client', async () => {
      for (let cut = 1; cut < 12; cut++) {
        const raw = await open();
        const frame = encodeFrame(
          JSON.stringify({ event: 'PING', data: { pad: 'x'.repeat(40) } }),
        );
        await raw.write(frame.subarray(0, cut));
        raw.destroy();
        await raw.ended;
      }
    });

    it.each([
      ['overlong encoding', [0xc0, 0xaf]],
      ['lone continuation byte', [0x80]],
      ['invalid start byte', [0xff]],
      ['truncated sequence', [0xc3]],
      ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ])('closes a text frame with %s with 1007', async (_name, bytes) => {
      const raw = await open();
      const payload = Buffer.concat([
        Buffer.from('{"event":"'),
        Buffer.from(bytes),
        Buffer.from('"}'),
      ]);
      await raw.write(encodeFrame(payload));
      await raw.ended;
      expect(raw.closeCode).toBe(1007);
    });

    it.each([
      ['an unmasked frame', encodeFrame('{"event":"PING"}', { masked: false })],
      ['reserved bit RSV1', encodeFrame('{"event":"PING"}', { rsv: 4 })],
      [
        'reserved bits RSV2 and RSV3',
        encodeFrame('{"event":"PING"}', { rsv: 3 }),
      ],
      ['an unknown opcode', encodeFrame('x', { opcode: 0x3 })],
      [
        'a continuation without a start',
        encodeFrame('x', { opcode: Opcode.CONTINUATION }),
      ],
      [
        'a fragmented control frame',
        encodeFrame('x', { opcode: Opcode.PING, fin: false }),
      ],
      [
        'a control frame over 125 bytes',
        encodeFrame('x'.repeat(126), { opcode: Opcode.PING }),
      ],
      [
        'close code 1005',
        encodeFrame(Buffer.from([0x03, 0xed]), { opcode: Opcode.CLOSE }),
      ],
      [
        'close code 999',
        encodeFrame(Buffer.from([0x03, 0xe7]), { opcode: Opcode.CLOSE }),
      ],
      [
        'close code 1004',
        encodeFrame(Buffer.from([0x03, 0xec]), { opcode: Opcode.CLOSE }),
      ],
      [
        'close code 5000',
        encodeFrame(Buffer.from([0x13, 0x88]), { opcode: Opcode.CLOSE }),
      ],
      [
        'a one-byte close payload',
        encodeFrame(Buffer.from([0x03]), { opcode: Opcode.CLOSE }),
      ],
    ])('closes on %s with 1002', async (_name, frame) => {
      const raw = await open();
      await raw.write(frame);
      await raw.ended;
      expect(raw.closeCode).toBe(1002);
    });

    it('closes on a declared length above the limit with 1009', async () => {
      const raw = await open();
      await raw.write(
        encodeFrame('x', { declaredLength: 2n ** 62n }).subarray(0, 14),
      );
      await raw.ended;
      expect(raw.closeCode).toBe(1009);
    });

    it('echoes a normal close', async () => {
      const raw = await open();
      await raw.write(
        encodeFrame(Buffer.from([0x03, 0xe8]), { opcode: Opcode.CLOSE }),
      );
      await raw.ended;
      expect(raw.closeCode).toBe(1000);
    });
  });
});
