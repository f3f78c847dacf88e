import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/test-client.js';

describe('relay smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('relays CLICKED_PAY to the creator', async () => {
    const creator = await TestClient.connect(server.wsUrl);
    const payer = await TestClient.connect(server.wsUrl);
    await creator.join('smoke', 'CREATOR');
    await payer.join('smoke', 'PAYER');
    const ack = await payer.request('CLICKED_PAY', { roomId: 'smoke' });
    expect(ack.seq).toBe(1);
    const relayed = await creator.next('CLICKED_PAY');
    expect(relayed.data).toMatchObject({ roomId: 'smoke', seq: 1 });
    await creator.close();
    await payer.close();
  });
});
