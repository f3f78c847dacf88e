import { WebSocket } from 'ws';
import { openRoom } from '../support/room-fixture.js';
import { startTestServer } from '../support/test-server.js';

describe('graceful shutdown', () => {
  it('closes every client with 1012 and stops accepting', async () => {
    const server = await startTestServer();
    const room = await openRoom(server.wsUrl);

    const closing = server.close();
    const [creatorClose, payerClose] = await Promise.all([
      room.creator.closed,
      room.payer.closed,
    ]);
    expect(creatorClose.code).toBe(1012);
    expect(payerClose.code).toBe(1012);
    await closing;

    const refused = new WebSocket(server.wsUrl);
    const error = await new Promise<Error>((resolve) =>
      refused.once('error', resolve),
    );
    expect(error.message).toMatch(/ECONNREFUSED|socket hang up|503/);
  });
});
