import { describeEachStore } from '../support/stores.js';
import { openRoom, uniqueRoomId } from '../support/room-fixture.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson } from '../support/wait-for.js';

interface StatsBody {
  totalRooms: number;
  totalClients: number;
  limit: number;
  offset: number;
  rooms: {
    roomId: string;
    clients: number;
    createdAt: string;
    status: string;
  }[];
}

await describeEachStore('stats endpoints', (store) => {
  let server: TestServer;
  const roomIds: string[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer(store.environment());
    for (let index = 0; index < 5; index += 1) {
      const client = await TestClient.connect(server.wsUrl);
      const roomId = uniqueRoomId('stats');
      await client.join(roomId, 'CREATOR');
      roomIds.push(roomId);
      clients.push(client);
    }
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  it('lists totals and rooms oldest first', async () => {
    const { status, body } = await getJson<StatsBody>(
      `${server.httpUrl}/stats`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      totalRooms: 5,
      totalClients: 5,
      limit: 100,
      offset: 0,
    });
    expect(body.rooms.map((room) => room.roomId)).toEqual(roomIds);
    expect(body.rooms[0]).toMatchObject({ clients: 1, status: 'OPEN' });
    expect(Date.parse(body.rooms[0].createdAt)).not.toBeNaN();
  });

  it('pages with limit and offset in a stable order', async () => {
    const pages: string[] = [];
    for (let offset = 0; offset < 5; offset += 2) {
      const { body } = await getJson<StatsBody>(
        `${server.httpUrl}/stats?limit=2&offset=${offset}`,
      );
      expect(body.totalRooms).toBe(5);
      pages.push(...body.rooms.map((room) => room.roomId));
    }
    expect(pages).toEqual(roomIds);
  });

  it.each(['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'sort=asc'])(
    'rejects ?%s with 400',
    async (query) => {
      const { status } = await getJson(`${server.httpUrl}/stats?${query}`);
      expect(status).toBe(400);
    },
  );

  it('describes one room with its members and seq', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.request('ENTERED_SUMMARY', { roomId: room.roomId });
    const { status, body } = await getJson(
      `${server.httpUrl}/stats/rooms/${room.roomId}`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      roomId: room.roomId,
      status: 'IN_PROGRESS',
      seq: 1,
    });
    expect(body.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          clientId: `${room.roomId}-creator`,
          role: 'CREATOR',
        }),
        expect.objectContaining({
          clientId: `${room.roomId}-payer`,
          role: 'PAYER',
        }),
      ]),
    );
    await room.close();
  });

  it('answers an unknown room with a JSON 404', async () => {
    const { status, body } = await getJson(
      `${server.httpUrl}/stats/rooms/no-such-room`,
    );
    expect(status).toBe(404);
    expect(body).toMatchObject({ statusCode: 404 });
    expect(String(body.message)).toContain('no-such-room');
  });
});
