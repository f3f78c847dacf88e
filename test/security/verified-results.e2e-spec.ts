import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TestClient } from '../support/test-client.js';
import {
  ADMIN_TOKEN,
  RESULT_API_KEY,
  RESULT_SIGNING_SECRET,
  http,
  postResult,
} from './security-helpers.js';

describe('verified payment results', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  const connect = async () => {
    const client = await TestClient.connect(server.wsUrl);
    clients.push(client);
    return client;
  };
  const roomStatus = async (roomId: string) => {
    const reply = await http(`${server.httpUrl}/stats/rooms/${roomId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return reply.body.status;
  };
  const pair = async (roomId: string) => {
    const creator = await connect();
    const payer = await connect();
    await creator.join(roomId, 'CREATOR');
    await payer.join(roomId, 'PAYER');
    await creator.next('PEER_JOINED');
    return { creator, payer };
  };

  beforeAll(async () => {
    server = await startTestServer({
      RESULT_API_KEY,
      REQUIRE_VERIFIED_RESULT: 'true',
      ADMIN_TOKEN,
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => server.close());

  it('rejects a result without the API key', async () => {
    const reply = await postResult(
      server.httpUrl,
      'no-key',
      { event: 'PAYMENT_SUCCESS', eventId: 'r1' },
      { apiKey: 'wrong-key-of-some-length' },
    );
    expect(reply.status).toBe(401);
    const missing = await http(`${server.httpUrl}/rooms/no-key/result`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'PAYMENT_SUCCESS', eventId: 'r1' }),
    });
    expect(missing.status).toBe(401);
  });

  it('rejects an invalid result body', async () => {
    const unknownEvent = await postResult(server.httpUrl, 'bad-body', {
      event: 'CLICKED_PAY',
      eventId: 'r1',
    });
    expect(unknownEvent.status).toBe(400);
    const errorWithoutCode = await postResult(server.httpUrl, 'bad-body', {
      event: 'PAYMENT_ERROR',
      eventId: 'r2',
    });
    expect(errorWithoutCode.status).toBe(400);
    const extraField = await postResult(server.httpUrl, 'bad-body', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'r3',
      cardNumber: '4111111111111111',
    });
    expect(extraField.status).toBe(400);
    const badRoom = await postResult(server.httpUrl, 'bad%20room', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'r4',
    });
    expect(badRoom.status).toBe(400);
  });

  it('rejects a body above 16 KiB with 413', async () => {
    const reply = await postResult(server.httpUrl, 'big-body', {
      event: 'PAYMENT_ERROR',
      eventId: 'big',
      code: 'X',
      message: 'x'.repeat(20 * 1024),
    });
    expect(reply.status).toBe(413);
  });

  it('relays a verified success to every member', async () => {
    const { creator, payer } = await pair('verified-ok');
    const reply = await postResult(server.httpUrl, 'verified-ok', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'backend-1',
      transactionId: 'tx-1',
      amount: 1990,
      currency: 'BRL',
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      seq: 1,
      duplicate: false,
      deliveredTo: 2,
      status: 'PAID',
    });

    for (const client of [creator, payer]) {
      const frame = await client.next('PAYMENT_SUCCESS');
      expect(frame.data).toMatchObject({
        roomId: 'verified-ok',
        seq: 1,
        eventId: 'backend-1',
        verified: true,
        transactionId: 'tx-1',
        amount: 1990,
        currency: 'BRL',
      });
      expect(frame.data).not.toHaveProperty('from');
    }
    expect(await roomStatus('verified-ok')).toBe('PAID');
  });

  it('records a repeated eventId once', async () => {
    const { creator } = await pair('idempotent');
    const result = { event: 'PAYMENT_SUCCESS', eventId: 'backend-dup' };
    const first = await postResult(server.httpUrl, 'idempotent', result);
    const second = await postResult(server.httpUrl, 'idempotent', result);
    expect(first.body).toMatchObject({ seq: 1, duplicate: false });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      seq: 1,
      duplicate: true,
      deliveredTo: 0,
    });
    await creator.next('PAYMENT_SUCCESS');
    await creator.sync();
    expect(creator.queued('PAYMENT_SUCCESS')).toHaveLength(0);
  });

  it('rejects a second verified result after PAID', async () => {
    await postResult(server.httpUrl, 'final', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'final-1',
    });
    const reply = await postResult(server.httpUrl, 'final', {
      event: 'PAYMENT_ERROR',
      eventId: 'final-2',
      code: 'LATE',
    });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('INVALID_TRANSITION');
  });

  it('creates the room for a device that joins later', async () => {
    const reply = await postResult(server.httpUrl, 'early-result', {
      event: 'PAYMENT_ERROR',
      eventId: 'early-1',
      code: 'CARD_DECLINED',
      message: 'Declined by the issuer',
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ deliveredTo: 0, status: 'FAILED' });

    const creator = await connect();
    const joined = await creator.join('early-result', 'CREATOR');
    expect(joined.status).toBe('FAILED');
    const missed = joined.missed as { event: string; data: unknown }[];
    expect(missed).toHaveLength(1);
    expect(missed[0].event).toBe('PAYMENT_ERROR');
    expect(missed[0].data).toMatchObject({
      eventId: 'early-1',
      verified: true,
      code: 'CARD_DECLINED',
    });
  });

  it('accepts a verified result without CLICKED_PAY', async () => {
    const { payer } = await pair('no-click');
    const reply = await postResult(server.httpUrl, 'no-click', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'no-click-1',
    });
    expect(reply.body.status).toBe('PAID');
    const frame = await payer.next('PAYMENT_SUCCESS');
    expect(frame.data).toMatchObject({ verified: true });
  });

  it('relays a forged success as an unverified claim', async () => {
    const { creator, payer } = await pair('forged');
    await payer.request('CLICKED_PAY', { roomId: 'forged' });
    const ack = await payer.request('PAYMENT_SUCCESS', {
      roomId: 'forged',
      eventId: 'claim-1',
    });
    expect(ack.seq).toBe(2);

    const claim = await creator.next('PAYMENT_SUCCESS');
    expect(claim.data).toMatchObject({ eventId: 'claim-1', verified: false });
    expect(await roomStatus('forged')).toBe('IN_PROGRESS');
  });

  it('does not let a device pre-empt a verified eventId', async () => {
    const { payer } = await pair('pre-empt');
    await payer.request('CLICKED_PAY', { roomId: 'pre-empt' });
    await payer.request('PAYMENT_ERROR', {
      roomId: 'pre-empt',
      eventId: 'backend-7',
      code: 'FAKE',
    });
    const reply = await postResult(server.httpUrl, 'pre-empt', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'backend-7',
    });
    expect(reply.body).toMatchObject({ duplicate: false, status: 'PAID' });
  });

  it('lets a verified error win over an unverified success', async () => {
    const { creator, payer } = await pair('contradiction');
    await payer.request('CLICKED_PAY', { roomId: 'contradiction' });
    await payer.request('PAYMENT_SUCCESS', {
      roomId: 'contradiction',
      eventId: 'claim-2',
    });
    const reply = await postResult(server.httpUrl, 'contradiction', {
      event: 'PAYMENT_ERROR',
      eventId: 'verdict-2',
      code: 'INSUFFICIENT_FUNDS',
    });
    expect(reply.body).toMatchObject({ status: 'FAILED', deliveredTo: 2 });
    const verdict = await creator.next('PAYMENT_ERROR');
    expect(verdict.data).toMatchObject({
      verified: true,
      code: 'INSUFFICIENT_FUNDS',
    });
    expect(await roomStatus('contradiction')).toBe('FAILED');
  });

  it('logs a contradiction with both event ids', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const { payer } = await pair('logged');
      await payer.request('CLICKED_PAY', { roomId: 'logged' });
      await payer.request('PAYMENT_SUCCESS', {
        roomId: 'logged',
        eventId: 'claim-3',
      });
      await postResult(server.httpUrl, 'logged', {
        event: 'PAYMENT_ERROR',
        eventId: 'verdict-3',
        code: 'FRAUD',
      });
      const lines = warn.mock.calls.map((call) => String(call[0]));
      const conflict = lines.find((line) => line.includes('contradicts'));
      expect(conflict).toContain('claim-3');
      expect(conflict).toContain('verdict-3');
    } finally {
      warn.mockRestore();
    }
  });

  it('rejects device events after a verified PAID', async () => {
    const { payer } = await pair('locked');
    await postResult(server.httpUrl, 'locked', {
      event: 'PAYMENT_SUCCESS',
      eventId: 'locked-1',
    });
    const error = await payer.expectError('PAYMENT_ERROR', {
      roomId: 'locked',
      code: 'LATE',
    });
    expect(error.code).toBe('INVALID_TRANSITION');
  });

  describe('without REQUIRE_VERIFIED_RESULT', () => {
    let open: TestServer;

    beforeAll(async () => {
      open = await startTestServer({ RESULT_API_KEY });
    });
    afterAll(() => open.close());

    it('marks a device success as unverified but applies it', async () => {
      const creator = await TestClient.connect(open.wsUrl);
      const payer = await TestClient.connect(open.wsUrl);
      await creator.join('claim-open', 'CREATOR');
      await payer.join('claim-open', 'PAYER');
      await payer.request('CLICKED_PAY', { roomId: 'claim-open' });
      await payer.request('PAYMENT_SUCCESS', { roomId: 'claim-open' });
      const claim = await creator.next('PAYMENT_SUCCESS');
      expect(claim.data).toMatchObject({ verified: false });
      const stats = await http(`${open.httpUrl}/stats/rooms/claim-open`);
      expect(stats.body.status).toBe('PAID');

      const verdict = await postResult(open.httpUrl, 'claim-open', {
        event: 'PAYMENT_ERROR',
        eventId: 'verdict-open',
        code: 'CHARGEBACK',
      });
      expect(verdict.body.status).toBe('FAILED');
      await creator.close();
      await payer.close();
    });
  });

  describe('with RESULT_SIGNING_SECRET', () => {
    let signed: TestServer;

    beforeAll(async () => {
      signed = await startTestServer({
        RESULT_API_KEY,
        RESULT_SIGNING_SECRET,
        RESULT_SIGNATURE_TOLERANCE_S: '60',
      });
    });
    afterAll(() => signed.close());

    const result = { event: 'PAYMENT_SUCCESS', eventId: 'signed-1' };

    it('accepts a correctly signed result', async () => {
      const reply = await postResult(signed.httpUrl, 'signed', result, {
        signingSecret: RESULT_SIGNING_SECRET,
      });
      expect(reply.status).toBe(200);
    });

    it('rejects an unsigned result', async () => {
      const reply = await postResult(signed.httpUrl, 'unsigned', result);
      expect(reply.status).toBe(401);
    });

    it('rejects a signature made with another secret', async () => {
      const reply = await postResult(signed.httpUrl, 'bad-signature', result, {
        signingSecret: 'another-signing-secret-0123456789abcdef',
      });
      expect(reply.status).toBe(401);
    });

    it('rejects a signed result replayed to another room', async () => {
      const timestamp = Math.floor(Date.now() / 1000);
      const captured = { event: 'PAYMENT_SUCCESS', eventId: 'psp-replayed' };
      const original = await postResult(signed.httpUrl, 'paid-room', captured, {
        signingSecret: RESULT_SIGNING_SECRET,
        timestamp,
      });
      expect(original.status).toBe(200);

      const replay = await postResult(signed.httpUrl, 'victim-room', captured, {
        signingSecret: RESULT_SIGNING_SECRET,
        timestamp,
        signedRoomId: 'paid-room',
      });
      expect(replay.status).toBe(401);
      expect(String(replay.body.message)).toMatch(/\/rooms\/<roomId>\/result/);
    });

    it('rejects a signature over the timestamp and body only', async () => {
      const body = JSON.stringify(result);
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = `sha256=${createHmac('sha256', RESULT_SIGNING_SECRET)
        .update(`${timestamp}.${body}`)
        .digest('hex')}`;
      const reply = await http(`${signed.httpUrl}/rooms/body-only/result`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${RESULT_API_KEY}`,
          'X-Relay-Timestamp': String(timestamp),
          'X-Relay-Signature': signature,
        },
        body,
      });
      expect(reply.status).toBe(401);
    });

    it('rejects a timestamp outside the window', async () => {
      const reply = await postResult(signed.httpUrl, 'stale', result, {
        signingSecret: RESULT_SIGNING_SECRET,
        timestamp: Math.floor(Date.now() / 1000) - 120,
      });
      expect(reply.status).toBe(401);
      expect(String(reply.body.message)).toMatch(
        /RESULT_SIGNATURE_TOLERANCE_S/,
      );
    });
  });

  describe('without RESULT_API_KEY', () => {
    it('answers the result endpoint with 404', async () => {
      const bare = await startTestServer();
      try {
        const reply = await postResult(bare.httpUrl, 'any', {
          event: 'PAYMENT_SUCCESS',
          eventId: 'x',
        });
        expect(reply.status).toBe(404);
      } finally {
        await bare.close();
      }
    });
  });
});
