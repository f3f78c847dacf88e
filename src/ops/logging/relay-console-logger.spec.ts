import { jest } from '@jest/globals';
import { RelayConsoleLogger } from './relay-console-logger.js';

/** Runs `write` with stdout captured and returns the JSON lines it printed. */
function capture(write: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  try {
    write();
  } finally {
    spy.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe(RelayConsoleLogger.name, () => {
  const logger = new RelayConsoleLogger({ json: true, flattenParams: true });

  it('writes level, time, context and message', () => {
    const [line] = capture(() => logger.log('Room opened', 'RoomsService'));
    expect(line.level).toBe('log');
    expect(line.context).toBe('RoomsService');
    expect(line.message).toBe('Room opened');
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('spreads ids passed after the message', () => {
    const [line] = capture(() =>
      logger.log(
        'Joined',
        { roomId: 'room-1', clientId: 'client-1', event: 'JOIN_ROOM' },
        'RoomsService',
      ),
    );
    expect(line).toMatchObject({
      roomId: 'room-1',
      clientId: 'client-1',
      event: 'JOIN_ROOM',
      context: 'RoomsService',
    });
  });

  it('adds the connection id as the correlation id', () => {
    const [named] = capture(() =>
      logger.warn('Slow reader', { connectionId: 'connection-1' }),
    );
    const [anonymous] = capture(() => logger.warn('Slow reader'));
    expect(named.correlationId).toBe('connection-1');
    expect(anonymous).not.toHaveProperty('correlationId');
  });
});
