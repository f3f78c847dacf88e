import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import {
  CloseCode,
  ErrorCode,
  Role,
  RoomStatus,
  type RelayClient,
} from '../../src/client/index.js';
import { createRelayApp } from '../../src/app.factory.js';
import {
  EventLog,
  FLOW,
  fastClient,
  sendStep,
  untilRoomEvent,
  untilState,
} from './client-fixture.js';

const ENVIRONMENT = { NODE_ENV: 'test', LOG_LEVEL: 'error' };

async function startApp(port: number): Promise<NestExpressApplication> {
  const { app } = await createRelayApp(ENVIRONMENT);
  await app.listen(port, '127.0.0.1');
  return app;
}

describe('client library across a server restart', () => {
  let app: NestExpressApplication | undefined;
  const clients: RelayClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) {
      client.close();
    }
    await app?.close();
    app = undefined;
  });

  it('re-joins after 1012 and reports the lost room', async () => {
    app = await startApp(0);
    const { port } = app.getHttpServer().address() as AddressInfo;
    const url = `ws://127.0.0.1:${port}/ws`;
    const creator = fastClient(url, { clientId: 'creator-restart' });
    const payer = fastClient(url, { clientId: 'payer-restart' });
    clients.push(creator, payer);
    await Promise.all([creator.connect(), payer.connect()]);
    const creatorRoom = await creator.joinRoom('restart', Role.CREATOR);
    const payerRoom = await payer.joinRoom('restart', Role.PAYER);
    const log = new EventLog(creatorRoom);
    for (let index = 0; index < 5; index += 1) {
      await sendStep(payerRoom, index);
    }
    await log.untilSeq(5);

    const closeCodes: (number | undefined)[] = [];
    creator.on('state', ({ state, closeCode }) => {
      if (state === 'reconnecting') {
        closeCodes.push(closeCode);
      }
    });
    const creatorReset = untilRoomEvent(creatorRoom, 'reset');
    const payerReset = untilRoomEvent(payerRoom, 'reset');
    const creatorRejoined = untilRoomEvent(creatorRoom, 'joined');
    const payerRejoined = untilRoomEvent(payerRoom, 'joined');
    await app.close();
    app = undefined;
    await untilState(creator, 'reconnecting');
    app = await startApp(port);

    // With the in-memory store the new process has no record of the room:
    // history, status, accepted eventIds and receipts are gone.
    expect(await creatorReset).toEqual({
      roomId: 'restart',
      previousSeq: 5,
      seq: 0,
    });
    expect(await payerReset).toMatchObject({ previousSeq: 5 });
    await Promise.all([creatorRejoined, payerRejoined]);
    expect(closeCodes[0]).toBe(CloseCode.SERVICE_RESTART);
    expect(creatorRoom.status).toBe(RoomStatus.OPEN);
    expect(creatorRoom.lastSeq).toBe(0);

    await expect(payerRoom.paymentSucceeded()).rejects.toMatchObject({
      code: ErrorCode.INVALID_TRANSITION,
    });
    await sendStep(payerRoom, FLOW.indexOf('CLICKED_PAY'));
    await sendStep(payerRoom, FLOW.indexOf('PAYMENT_SUCCESS'));
    await log.untilCount(7);
    expect(log.seqs).toEqual([1, 2, 3, 4, 5, 1, 2]);
    expect(log.names.slice(5)).toEqual(['CLICKED_PAY', 'PAYMENT_SUCCESS']);
    // The payer's success is unverified, so only the claim shows it.
    expect(creatorRoom.status).toBe(RoomStatus.IN_PROGRESS);
    expect(creatorRoom.claimedResult).toMatchObject({
      event: 'PAYMENT_SUCCESS',
      seq: 2,
    });
  });
});
