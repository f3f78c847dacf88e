import { openRoom } from '../support/room-fixture.js';
import {
  freePort,
  startServerProcess,
  type ServerProcess,
} from '../support/server-process.js';

describe('server process signals', () => {
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'closes clients with 1012 and exits on %s',
    async (signal) => {
      server = await startServerProcess(await freePort());
      const room = await openRoom(server.wsUrl);

      server.child.kill(signal);
      expect((await room.creator.closed).code).toBe(1012);
      expect((await room.payer.closed).code).toBe(1012);
      const exit = await server.exited;
      expect(exit.code === 0 || exit.signal === signal).toBe(true);
      expect(server.output()).toContain(`${signal} received`);
      expect(server.output()).toContain(`Payment relay stopped (${signal})`);
    },
  );

  it('exits within SHUTDOWN_TIMEOUT_MS when a client holds on', async () => {
    server = await startServerProcess(await freePort(), {
      SHUTDOWN_TIMEOUT_MS: '600',
    });
    const room = await openRoom(server.wsUrl);
    // A client that never completes the close handshake keeps its socket open.
    room.creator.socket.pause();
    room.payer.socket.pause();

    const started = Date.now();
    server.child.kill('SIGTERM');
    await server.exited;
    expect(Date.now() - started).toBeLessThan(3_000);
    room.creator.terminate();
    room.payer.terminate();
  });

  it('exits naming an invalid setting', async () => {
    await expect(
      startServerProcess(await freePort(), { ROOM_MAX_CREATORS: 'many' }),
    ).rejects.toThrow(
      /ROOM_MAX_CREATORS="many": must be an integer(?![\s\S]*Unhandled)/,
    );
  });
});
