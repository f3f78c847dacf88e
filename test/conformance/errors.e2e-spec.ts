import { WebSocket } from 'ws';
import { describeEachStore } from '../support/stores.js';
import { openRoom, type RoomFixture } from '../support/room-fixture.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const MAX_PAYLOAD_BYTES = 1024;

await describeEachStore('rejected input', (store) => {
  let server: TestServer;
  let room: RoomFixture;

  beforeAll(async () => {
    server = await startTestServer({
      ...store.environment(),
      MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
    });
  });
  afterAll(() => server.close());

  beforeEach(async () => {
    room = await openRoom(server.wsUrl);
  });

  /** The sender, the room and the server all keep working after a rejection. */
  afterEach(async () => {
    await room.payer.sync();
    const ack = await room.payer.request('ENTERED_SUMMARY', {
      roomId: room.roomId,
    });
    expect(ack.duplicate).toBe(false);
    expect((await room.creator.next('ENTERED_SUMMARY')).data).toMatchObject({
      seq: ack.seq,
    });
    await room.close();
  });

  const nextError = async () =>
    (await room.payer.next('ERROR')).data as Record<string, unknown>;

  it.each([
    ['text that is not JSON', 'hello'],
    ['a JSON array', '[1,2]'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['a JSON string', '"JOIN_ROOM"'],
    ['an object without event', '{"data":{}}'],
    ['a numeric event', '{"event":7,"data":{}}'],
    ['an empty event', '{"event":"","data":{}}'],
    ['truncated JSON', '{"event":"PING","da'],
  ])('answers %s with INVALID_MESSAGE', async (_, frame) => {
    room.payer.sendRaw(frame);
    const error = await nextError();
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(typeof error.message).toBe('string');
    expect(error.event).toBeUndefined();
  });

  it('answers a binary frame with INVALID_MESSAGE', async () => {
    room.payer.sendRaw(Buffer.from('{"event":"PING"}'), { binary: true });
    const error = await nextError();
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(String(error.message)).toContain('Binary');
  });

  it('answers an unknown event with UNKNOWN_EVENT and its name', async () => {
    room.payer.send('REFUND_EVERYTHING', { roomId: room.roomId });
    expect(await nextError()).toMatchObject({
      code: 'UNKNOWN_EVENT',
      event: 'REFUND_EVERYTHING',
    });
  });

  it('echoes a valid eventId with UNKNOWN_EVENT', async () => {
    room.payer.send('REFUND_EVERYTHING', {
      roomId: room.roomId,
      eventId: 'refund-1',
    });
    expect(await nextError()).toMatchObject({
      code: 'UNKNOWN_EVENT',
      eventId: 'refund-1',
    });
  });

  it('truncates a huge unknown event name in the reply', async () => {
    room.payer.send('X'.repeat(600));
    const error = await nextError();
    expect(error.code).toBe('UNKNOWN_EVENT');
    expect(String(error.event)).toHaveLength(128);
  });

  it.each([
    ['a string amount', 'PAYMENT_SUCCESS', { amount: '1999' }, 'amount'],
    ['a fractional amount', 'PAYMENT_SUCCESS', { amount: 19.99 }, 'amount'],
    ['a negative amount', 'PAYMENT_SUCCESS', { amount: -1 }, 'amount'],
    [
      'a lower-case currency',
      'PAYMENT_SUCCESS',
      { currency: 'brl' },
      'currency',
    ],
    [
      'a lower-case method',
      'PAYMENT_METHOD_CHANGED',
      { method: 'pix' },
      'method',
    ],
    ['a missing method', 'PAYMENT_METHOD_CHANGED', {}, 'method'],
    [
      'a 33-character method',
      'PAYMENT_METHOD_CHANGED',
      { method: 'A'.repeat(33) },
      'method',
    ],
    [
      '21 field names',
      'DATA_FILLED',
      { fields: Array.from({ length: 21 }, (_, i) => `f${i}`) },
      'fields',
    ],
    [
      'a field value instead of a name',
      'DATA_FILLED',
      { fields: ['4111 1111 1111 1111'] },
      'fields',
    ],
    ['fields as an object', 'DATA_FILLED', { fields: { name: 'x' } }, 'fields'],
    ['a missing error code', 'PAYMENT_ERROR', {}, 'code'],
    [
      'a 65-character error code',
      'PAYMENT_ERROR',
      { code: 'c'.repeat(65) },
      'code',
    ],
    [
      'a 501-character error message',
      'PAYMENT_ERROR',
      { code: 'x', message: 'm'.repeat(501) },
      'message',
    ],
    [
      'an unknown property',
      'PAYMENT_SUCCESS',
      { cardNumber: '4111111111111111' },
      'cardNumber',
    ],
    ['an invalid eventId', 'CLICKED_PAY', { eventId: 'has space' }, 'eventId'],
  ])('rejects %s with VALIDATION_FAILED', async (_, event, data, field) => {
    room.payer.send(event, { roomId: room.roomId, ...data });
    const error = await nextError();
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', event });
    const fields = error.fields as { field: string; messages: string[] }[];
    expect(fields.map((entry) => entry.field)).toContain(field);
  });

  it('never echoes the value of an unknown property', async () => {
    room.payer.send('PAYMENT_SUCCESS', {
      roomId: room.roomId,
      cardNumber: '4111111111111111',
    });
    const error = await nextError();
    expect(JSON.stringify(error)).not.toContain('4111111111111111');
  });

  it('names the wrong value in the message', async () => {
    room.payer.send('PAYMENT_SUCCESS', { roomId: room.roomId, amount: '1999' });
    expect(String((await nextError()).message)).toContain('"1999"');
  });

  it.each([
    ['a string lastSeq', { role: 'CREATOR', lastSeq: '3' }, 'lastSeq'],
    ['a negative lastSeq', { role: 'CREATOR', lastSeq: -1 }, 'lastSeq'],
    ['an unknown role', { role: 'ADMIN' }, 'role'],
    ['a lower-case role', { role: 'payer' }, 'role'],
    [
      'a clientId with a slash',
      { role: 'CREATOR', clientId: 'a/b' },
      'clientId',
    ],
    [
      'an expiresAt without a date',
      { role: 'CREATOR', expiresAt: 'tomorrow' },
      'expiresAt',
    ],
    [
      'an expiresAt without a time',
      { role: 'CREATOR', expiresAt: '2099-01-01' },
      'expiresAt',
    ],
    [
      'an expiresAt without a time zone',
      { role: 'CREATOR', expiresAt: '2099-01-01T10:00:00' },
      'expiresAt',
    ],
    [
      'an expiresAt the server cannot read',
      { role: 'CREATOR', expiresAt: '2099-01-31T23Z' },
      'expiresAt',
    ],
  ])('rejects JOIN_ROOM with %s', async (_, data, field) => {
    room.payer.send('JOIN_ROOM', { roomId: 'join-errors', ...data });
    const error = await nextError();
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      event: 'JOIN_ROOM',
    });
    const fields = error.fields as { field: string }[];
    expect(fields.map((entry) => entry.field)).toContain(field);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['129 characters long', 'r'.repeat(129)],
    ['made of other characters', 'room#1'],
    ['a number', 12],
  ])('rejects a roomId that is %s', async (_, roomId) => {
    room.payer.send('CLICKED_PAY', { roomId });
    const error = await nextError();
    expect(error.code).toBe('VALIDATION_FAILED');
    const fields = error.fields as { field: string }[];
    expect(fields.map((entry) => entry.field)).toContain('roomId');
  });

  it.each([
    ['null', null],
    ['an array', ['room-1']],
    ['a string', 'room'],
    ['absent', undefined],
  ])('rejects data that is %s', async (_, data) => {
    room.payer.send('CLICKED_PAY', data);
    const error = await nextError();
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      event: 'CLICKED_PAY',
    });
  });

  it('rejects a __proto__ key without polluting prototypes', async () => {
    room.payer.sendRaw(
      `{"event":"CLICKED_PAY","data":{"roomId":"${room.roomId}","__proto__":{"polluted":true}}}`,
    );
    const error = await nextError();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('echoes a valid eventId in the error', async () => {
    room.payer.send('PAYMENT_SUCCESS', {
      roomId: room.roomId,
      eventId: 'result-7',
    });
    expect(await nextError()).toMatchObject({
      code: 'INVALID_TRANSITION',
      event: 'PAYMENT_SUCCESS',
      eventId: 'result-7',
    });
  });

  it('reads a frame of exactly MAX_PAYLOAD_BYTES', async () => {
    const base = JSON.stringify({
      event: 'PING',
      data: { pad: '' },
    });
    const frame = base.replace(
      '"pad":""',
      `"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES - base.length)}"`,
    );
    expect(Buffer.byteLength(frame)).toBe(MAX_PAYLOAD_BYTES);
    room.payer.sendRaw(frame);
    await room.payer.next('PONG');
  });
});

await describeEachStore('connection limits', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      ...store.environment(),
      MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
    });
  });
  afterAll(() => server.close());

  it('closes the connection with 1009 above MAX_PAYLOAD_BYTES', async () => {
    const room = await openRoom(server.wsUrl);
    room.payer.sendRaw('x'.repeat(MAX_PAYLOAD_BYTES + 1));
    expect((await room.payer.closed).code).toBe(1009);
    await room.creator.next('PEER_LEFT');
    await room.creator.sync();
    await room.close();
  });

  it.each(['/ws/', '/other', '/'])(
    'answers an upgrade on %s with 404',
    async (path) => {
      const socket = new WebSocket(
        `${server.httpUrl.replace('http', 'ws')}${path}`,
      );
      const status = await new Promise<number | undefined>((resolve) => {
        socket.once('unexpected-response', (_, response) =>
          resolve(response.statusCode),
        );
        socket.once('open', () => resolve(undefined));
        socket.once('error', () => undefined);
      });
      expect(status).toBe(404);
      socket.terminate();
    },
  );

  it('accepts a query string on the endpoint path', async () => {
    const client = await TestClient.connect(`${server.wsUrl}?device=pos`);
    await client.sync();
    await client.close();
  });
});
