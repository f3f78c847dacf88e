import { jest } from '@jest/globals';
import { RelayConsoleLogger } from '../../src/ops/logging/relay-console-logger.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer } from '../support/test-server.js';

describe('production log lines', () => {
  it('carry ids and the correlation id', async () => {
    const server = await startTestServer();
    server.app.useLogger(
      new RelayConsoleLogger({
        json: true,
        flattenParams: true,
        logLevels: ['error', 'warn', 'log'],
      }),
    );
    const lines: string[] = [];
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    try {
      const client = await TestClient.connect(server.wsUrl);
      await client.join('log-room', 'CREATOR');
      await client.expectError('NOT_AN_EVENT', { roomId: 'log-room' });
      await client.close();
    } finally {
      spy.mockRestore();
      server.app.useLogger(['error']);
      await server.close();
    }

    const records = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const rejected = records.find((record) =>
      String(record.message).startsWith('Rejected a message'),
    );
    expect(rejected).toBeDefined();
    expect(rejected?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(String(rejected?.message)).toContain(
      String(rejected?.correlationId),
    );
    expect(rejected).toHaveProperty('time');
    expect(rejected).toHaveProperty('context');

    const joined = records.find((record) =>
      String(record.message).includes('joined room log-room'),
    );
    expect(joined).toMatchObject({
      context: 'RoomsService',
      roomId: 'log-room',
      role: 'CREATOR',
      connectionId: rejected?.correlationId,
    });
    expect(joined?.clientId).toEqual(expect.any(String));
  });
});
