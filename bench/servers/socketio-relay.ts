import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { RunningServer } from './raw-ws-relay.js';

/** Largest packet accepted, in bytes: the relay's own default. */
const MAX_PAYLOAD_BYTES = 16 * 1024;

/**
 * Engine.IO ping interval and timeout, in ms. The relay under test runs with
 * its heartbeat pushed out of the measurement the same way.
 */
const PING_INTERVAL_MS = 600_000;

/** The flow events of the relay's catalogue, relayed here without checks. */
const RELAYED_EVENTS = [
  'ENTERED_SUMMARY',
  'CLICKED_PROCEED',
  'PAYMENT_METHOD_CHANGED',
  'DATA_FILLED',
  'CLICKED_PAY',
  'PAYMENT_SUCCESS',
  'PAYMENT_ERROR',
] as const;

interface RoomData {
  roomId?: unknown;
  eventId?: unknown;
}

/**
 * Starts the Socket.IO 4 relay that most teams would write: websocket
 * transport only, compression off, `socket.join(roomId)` on `JOIN_ROOM` and
 * `socket.to(roomId).emit` for every flow event, with an `ACK` event back to
 * the sender.
 */
export async function startSocketIoRelay(
  port: number,
  host = '127.0.0.1',
): Promise<RunningServer> {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    maxHttpBufferSize: MAX_PAYLOAD_BYTES,
    pingInterval: PING_INTERVAL_MS,
    pingTimeout: PING_INTERVAL_MS,
  });

  io.on('connection', (socket: Socket) => {
    socket.on('JOIN_ROOM', (data: RoomData) => {
      if (typeof data?.roomId !== 'string') {
        socket.emit('ERROR', { code: 'INVALID_MESSAGE' });
        return;
      }
      void socket.join(data.roomId);
      socket.emit('ROOM_JOINED', { roomId: data.roomId });
    });
    for (const event of RELAYED_EVENTS) {
      socket.on(event, (data: RoomData) => {
        const roomId = data?.roomId;
        if (typeof roomId !== 'string' || !socket.rooms.has(roomId)) {
          socket.emit('ERROR', { code: 'NOT_IN_ROOM' });
          return;
        }
        socket.to(roomId).emit(event, data);
        socket.emit('ACK', { event, roomId, eventId: data.eventId });
      });
    }
  });

  await new Promise<void>((resolve) => httpServer.listen(port, host, resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        io.disconnectSockets(true);
        void io.close(() => resolve());
      }),
  };
}
