import { TestClient } from './test-client.js';

export interface RoomFixture {
  roomId: string;
  creator: TestClient;
  payer: TestClient;
  close(): Promise<void>;
}

let roomCounter = 0;

/** A room id unique within the test run. */
export function uniqueRoomId(prefix = 'room'): string {
  roomCounter += 1;
  return `${prefix}-${process.pid}-${roomCounter}`;
}

/**
 * Connects a creator and a payer to a new room. The creator's `PEER_JOINED`
 * for the payer is taken from its queue, so tests start from a clean slate.
 */
export async function openRoom(
  wsUrl: string,
  roomId = uniqueRoomId(),
): Promise<RoomFixture> {
  const creator = await TestClient.connect(wsUrl);
  const payer = await TestClient.connect(wsUrl);
  await creator.join(roomId, 'CREATOR', { clientId: `${roomId}-creator` });
  await payer.join(roomId, 'PAYER', { clientId: `${roomId}-payer` });
  await creator.next('PEER_JOINED');
  return {
    roomId,
    creator,
    payer,
    close: async () => {
      await Promise.all([creator.close(), payer.close()]);
    },
  };
}

/** The whole checkout, in order, with valid data for each step. */
export const CHECKOUT_STEPS: {
  event: string;
  data: Record<string, unknown>;
}[] = [
  { event: 'ENTERED_SUMMARY', data: {} },
  { event: 'CLICKED_PROCEED', data: {} },
  { event: 'PAYMENT_METHOD_CHANGED', data: { method: 'PIX' } },
  { event: 'DATA_FILLED', data: { fields: ['name', 'email'] } },
  { event: 'CLICKED_PAY', data: {} },
  {
    event: 'PAYMENT_SUCCESS',
    data: { transactionId: 'tx-1', amount: 1999, currency: 'BRL' },
  },
];
