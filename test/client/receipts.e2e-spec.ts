import { ErrorCode } from '../../src/protocol/index.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson } from '../support/wait-for.js';

describe('RECEIVED and DELIVERED', () => {
  let server: TestServer;
  let sockets: TestClient[];
  let roomNumber = 0;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(() => server.close());

  beforeEach(() => {
    sockets = [];
  });

  afterEach(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  /** Joins a creator and a payer to a fresh room and relays `events` events. */
  async function roomWithEvents(events: number) {
    const roomId = `receipts-${++roomNumber}`;
    const creator = await TestClient.connect(server.wsUrl);
    const payer = await TestClient.connect(server.wsUrl);
    sockets.push(creator, payer);
    await creator.join(roomId, 'CREATOR', { clientId: 'creator-1' });
    await payer.join(roomId, 'PAYER', { clientId: 'payer-1' });
    const steps = ['ENTERED_SUMMARY', 'CLICKED_PROCEED', 'CLICKED_PAY'];
    for (const event of steps.slice(0, events)) {
      await payer.request(event, { roomId });
      await creator.next(event);
    }
    return { roomId, creator, payer };
  }

  it('tells the payer when the creator confirms', async () => {
    const { roomId, creator, payer } = await roomWithEvents(2);
    creator.send('RECEIVED', { roomId, seq: 2 });

    const delivered = await payer.next('DELIVERED');
    expect(delivered.data).toEqual({ roomId, seq: 2, clientId: 'creator-1' });
  });

  it('sends no reply to RECEIVED', async () => {
    const { roomId, creator } = await roomWithEvents(1);
    creator.send('RECEIVED', { roomId, seq: 1 });
    await creator.sync();
    expect(creator.queued('ACK')).toEqual([]);
    expect(creator.queued('ERROR')).toEqual([]);
  });

  it('shows receivedSeq in the room stats', async () => {
    const { roomId, creator, payer } = await roomWithEvents(3);
    creator.send('RECEIVED', { roomId, seq: 3 });
    await payer.next('DELIVERED');

    const { status, body } = await getJson<{
      members: { clientId: string; receivedSeq: number }[];
    }>(`${server.httpUrl}/stats/rooms/${roomId}`);
    expect(status).toBe(200);
    expect(body.members).toEqual(
      expect.arrayContaining([
        { clientId: 'creator-1', role: 'CREATOR', receivedSeq: 3 },
        { clientId: 'payer-1', role: 'PAYER', receivedSeq: 0 },
      ]),
    );
  });

  it('ignores a seq that does not advance', async () => {
    const { roomId, creator, payer } = await roomWithEvents(2);
    creator.send('RECEIVED', { roomId, seq: 2 });
    await payer.next('DELIVERED');
    creator.send('RECEIVED', { roomId, seq: 2 });
    creator.send('RECEIVED', { roomId, seq: 1 });
    await creator.sync();
    await payer.sync();
    expect(payer.queued('DELIVERED')).toEqual([]);
  });

  it('caps a seq above the room seq', async () => {
    const { roomId, creator, payer } = await roomWithEvents(2);
    creator.send('RECEIVED', { roomId, seq: 50 });
    const delivered = await payer.next('DELIVERED');
    expect(delivered.data).toMatchObject({ seq: 2 });
  });

  it('sends no DELIVERED for the payer own receipt', async () => {
    const { roomId, creator, payer } = await roomWithEvents(2);
    payer.send('RECEIVED', { roomId, seq: 2 });
    await payer.sync();
    await creator.sync();
    expect(payer.queued('DELIVERED')).toEqual([]);
    expect(creator.queued('DELIVERED')).toEqual([]);
  });

  it.each([
    ['a zero seq', { seq: 0 }],
    ['a fractional seq', { seq: 1.5 }],
    ['a string seq', { seq: '1' }],
    ['no seq', {}],
  ])('rejects %s', async (_, fields) => {
    const { roomId, creator } = await roomWithEvents(1);
    const error = await creator.expectError('RECEIVED', { roomId, ...fields });
    expect(error).toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
      event: 'RECEIVED',
    });
  });

  it('rejects RECEIVED outside the room', async () => {
    const outsider = await TestClient.connect(server.wsUrl);
    sockets.push(outsider);
    const error = await outsider.expectError('RECEIVED', {
      roomId: 'receipts-nowhere',
      seq: 1,
    });
    expect(error).toMatchObject({ code: ErrorCode.NOT_IN_ROOM });
  });
});
