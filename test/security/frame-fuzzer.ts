/**
 * A seeded generator of hostile relay frames: the same seed always yields
 * the same frames, so a failure can be replayed with `FUZZ_SEED`.
 */

/** mulberry32: a small, fast 32-bit PRNG with good enough spread for fuzzing. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENTS = [
  'JOIN_ROOM',
  'LEAVE_ROOM',
  'ENTERED_SUMMARY',
  'CLICKED_PROCEED',
  'PAYMENT_METHOD_CHANGED',
  'DATA_FILLED',
  'CLICKED_PAY',
  'PAYMENT_SUCCESS',
  'PAYMENT_ERROR',
  'RECEIVED',
  'PING',
];

const DANGEROUS_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
];

const FIELD_KEYS = [
  'roomId',
  'eventId',
  'role',
  'clientId',
  'lastSeq',
  'expiresAt',
  'token',
  'method',
  'fields',
  'transactionId',
  'amount',
  'currency',
  'code',
  'message',
  'seq',
  'verified',
  'from',
];

const UNICODE_EDGES = [
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '\u0000',
  '\ufeff',
  '\u200b',
  '\u202e',
  '\uffff',
  'e\u0301',
  '\u{10ffff}',
  'Ａ',
  '\r\n',
  '"',
  '\\',
];

/** Keeps generated frames below the server's 16 KiB frame limit. */
const MAX_STRING = 12_000;

export class FrameFuzzer {
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly roomId: string,
  ) {
    this.random = seededRandom(seed);
  }

  /** Returns the text of one hostile frame of at most `maxBytes` UTF-8 bytes. */
  next(maxBytes: number): string {
    for (;;) {
      const text = this.candidate();
      if (Buffer.byteLength(text) <= maxBytes) {
        return text;
      }
    }
  }

  private candidate(): string {
    const strategy = this.int(6);
    switch (strategy) {
      case 0:
        return this.mutatedValidFrame();
      case 1:
        return JSON.stringify(this.value(3));
      case 2:
        return this.corruptedText();
      case 3:
        return this.deeplyNested();
      case 4:
        return this.prototypeAttack();
      default:
        return JSON.stringify(this.frameWithRandomData());
    }
  }

  private mutatedValidFrame(): string {
    const frame = this.validFrame();
    const data = frame.data as Record<string, unknown>;
    const mutations = 1 + this.int(3);
    for (let i = 0; i < mutations; i++) {
      const choice = this.int(6);
      if (choice === 0) {
        data[this.pick(FIELD_KEYS)] = this.value(2);
      } else if (choice === 1) {
        delete data[this.pick(Object.keys(data).concat('roomId'))];
      } else if (choice === 2) {
        data[this.pick(DANGEROUS_KEYS)] = this.value(2);
      } else if (choice === 3) {
        frame.event = this.mutateString(frame.event as string);
      } else if (choice === 4) {
        frame.data = this.value(1);
      } else {
        data.roomId = this.string();
      }
    }
    return JSON.stringify(frame);
  }

  private validFrame(): Record<string, unknown> {
    const event = this.pick(EVENTS);
    const data = nullObject({ roomId: this.roomId });
    if (event === 'JOIN_ROOM') {
      data.role = this.pick(['CREATOR', 'PAYER']);
    } else if (event === 'PAYMENT_METHOD_CHANGED') {
      data.method = 'PIX';
    } else if (event === 'PAYMENT_ERROR') {
      data.code = 'DECLINED';
    } else if (event === 'RECEIVED') {
      data.seq = this.int(10);
    } else if (event === 'DATA_FILLED') {
      data.fields = ['name'];
    }
    return nullObject({ event, data });
  }

  private frameWithRandomData(): Record<string, unknown> {
    return nullObject({
      event: this.random() < 0.8 ? this.pick(EVENTS) : this.string(),
      data: this.value(3),
    });
  }

  private corruptedText(): string {
    const text = JSON.stringify(this.validFrame());
    const choice = this.int(4);
    const at = this.int(text.length + 1);
    if (choice === 0) {
      return text.slice(0, at);
    }
    if (choice === 1) {
      return text.slice(0, at) + this.pick(UNICODE_EDGES) + text.slice(at);
    }
    if (choice === 2) {
      return text.slice(0, at) + text.slice(at + 1 + this.int(5));
    }
    return (
      text.slice(0, at) +
      this.pick(['{', '}', '[', ']', ',', ':', '"']) +
      text.slice(at)
    );
  }

  private deeplyNested(): string {
    const depth = 100 + this.int(2_000);
    const open = this.random() < 0.5 ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + '1' + close.repeat(depth);
    const wrap = this.int(3);
    if (wrap === 0) {
      return nested;
    }
    if (wrap === 1) {
      return `{"event":"CLICKED_PAY","data":{"roomId":"${this.roomId}","extra":${nested}}}`;
    }
    return `{"event":"JOIN_ROOM","data":${nested}}`;
  }

  private prototypeAttack(): string {
    const room = JSON.stringify(this.roomId);
    return this.pick([
      `{"event":"CLICKED_PAY","data":{"roomId":${room},"__proto__":{"polluted":true}}}`,
      `{"__proto__":{"event":"PING","polluted":true}}`,
      `{"event":"JOIN_ROOM","data":{"roomId":${room},"role":"PAYER","constructor":{"prototype":{"polluted":true}}}}`,
      `{"event":"__proto__","data":{"roomId":${room}}}`,
      `{"event":"constructor","data":{}}`,
      `{"event":"hasOwnProperty","data":{}}`,
      `{"event":"toString","data":{"roomId":${room}}}`,
      `{"event":"DATA_FILLED","data":{"roomId":${room},"fields":{"__proto__":["polluted"]}}}`,
      `{"event":"PAYMENT_ERROR","data":{"roomId":${room},"code":{"toString":"x"}}}`,
      `{"event":"LEAVE_ROOM","data":{"roomId":${room},"prototype":{"polluted":true}}}`,
    ]);
  }

  private value(depth: number): unknown {
    const choice = this.int(depth > 0 ? 12 : 8);
    switch (choice) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, -0]);
      case 3:
        return this.int(1000);
      case 4:
      case 5:
        return this.string();
      case 6:
        return 'x'.repeat(this.int(MAX_STRING));
      case 7:
        return this.pick(UNICODE_EDGES).repeat(1 + this.int(50));
      case 8:
        return Array.from({ length: this.int(5) }, () => this.value(depth - 1));
      case 9:
        return Array.from({ length: this.int(2_000) }, () => this.int(10));
      default: {
        const object = nullObject({});
        const keys = this.int(5);
        for (let i = 0; i < keys; i++) {
          const key =
            this.random() < 0.3
              ? this.pick(DANGEROUS_KEYS)
              : this.pick(FIELD_KEYS);
          object[key] = this.value(depth - 1);
        }
        return object;
      }
    }
  }

  private string(): string {
    const length = this.int(40);
    let text = '';
    for (let i = 0; i < length; i++) {
      text +=
        this.random() < 0.2
          ? this.pick(UNICODE_EDGES)
          : String.fromCharCode(32 + this.int(95));
    }
    return text;
  }

  private mutateString(text: string): string {
    const choice = this.int(4);
    if (choice === 0) {
      return text.toLowerCase();
    }
    if (choice === 1) {
      return text + this.pick(UNICODE_EDGES);
    }
    if (choice === 2) {
      return this.pick(DANGEROUS_KEYS);
    }
    return text.slice(0, this.int(text.length));
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/**
 * Builds an object without a prototype, so that `__proto__` and its kin
 * become ordinary own keys that `JSON.stringify` writes out.
 */
function nullObject(entries: Record<string, unknown>): Record<string, unknown> {
  const object = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(entries)) {
    object[key] = value;
  }
  return object;
}
