import {
  ClientErrorCode,
  Role,
  RoomStatus,
  type ClaimedResult,
  type RelayClient,
} from '../../src/client/index.js';
import { RESULT_API_KEY, postResult } from '../security/security-helpers.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { fastClient, untilState, withTimeout } from './client-fixture.js';

const JWT_SECRET = 'client-policy-test-secret-0123456789abcdef';

describe('client library against server policies', () => {
  let clients: RelayClient[];

  beforeEach(() => {
    clients = [];
  });

  afterEach(() => {
    for (const client of clients) {
      client.close();
    }
  });

  function track(client: RelayClient): RelayClient {
    clients.push(client);
    return client;
  }

  describe('with REQUIRE_VERIFIED_RESULT', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({
        RESULT_API_KEY,
        REQUIRE_VERIFIED_RESULT: 'true',
      });
    });

    afterAll(() => server.close());

    it('shows a forged success as a claim only', async () => {
      const creator = track(fastClient(server.wsUrl, { clientId: 'creator' }));
      const payer = track(fastClient(server.wsUrl, { clientId: 'payer' }));
      await Promise.all([creator.connect(), payer.connect()]);
      const creatorRoom = await creator.joinRoom('claimed', Role.CREATOR);
      const payerRoom = await payer.joinRoom('claimed', Role.PAYER);
      const claimed = withTimeout(
        new Promise<ClaimedResult | undefined>((resolve) =>
          creatorRoom.once('claimedResult', resolve),
        ),
        5_000,
        'the claimed result',
      );

      await payerRoom.clickedPay();
      await payerRoom.paymentSucceeded({ amount: 1_999, currency: 'BRL' });

      expect(await claimed).toMatchObject({ event: 'PAYMENT_SUCCESS', seq: 2 });
      expect(creatorRoom.status).toBe(RoomStatus.IN_PROGRESS);
      expect(payerRoom.status).toBe(RoomStatus.IN_PROGRESS);

      const paid = withTimeout(
        new Promise<void>((resolve) =>
          creatorRoom.on('status', ({ status }) => {
            if (status === RoomStatus.PAID) {
              resolve();
            }
          }),
        ),
        5_000,
        'status PAID',
      );
      const reply = await postResult(server.httpUrl, 'claimed', {
        event: 'PAYMENT_SUCCESS',
        eventId: 'psp-1',
      });
      expect(reply.status).toBe(200);
      await paid;
      expect(creatorRoom.claimedResult).toBeUndefined();
    });
  });

  it('stops after the 1008 of the join timeout', async () => {
    const server = await startTestServer({ JOIN_TIMEOUT_MS: '200' });
    try {
      const client = track(fastClient(server.wsUrl));
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      await client.connect();

      await untilState(client, 'closed');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        code: ClientErrorCode.POLICY_VIOLATION,
      });
    } finally {
      await server.close();
    }
  });

  it('stops after an upgrade rejected with 401', async () => {
    const server = await startTestServer({
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: JWT_SECRET,
    });
    try {
      const client = track(fastClient(`${server.wsUrl}?token=not.a.jwt`));
      await expect(client.connect()).rejects.toMatchObject({
        code: ClientErrorCode.UPGRADE_REJECTED,
      });
      expect(client.state).toBe('closed');
    } finally {
      await server.close();
    }
  });
});
