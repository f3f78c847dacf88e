import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/** Largest frame accepted, in bytes: the relay's own default. */
const MAX_PAYLOAD_BYTES = 16 * 1024;

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

interface IncomingFrame {
  event?: unknown;
  data?: { roomId?: unknown; eventId?: unknown };
}

/**
 * Starts the floor of the comparison: a `ws` relay with rooms in a `Map`.
 * It speaks the relay's JSON frames, replies to `JOIN_ROOM` with `ROOM_JOINED`,
 * forwards every other event's frame unchanged to the other members of its
 * room and acknowledges it to the sender. It validates nothing beyond what
 * it needs to route, keeps no history and has no heartbeat.
 */
export async function startRawWsRelay(
  port: number,
  host = '127.0.0.1',
): Promise<RunningServer> {
  const rooms = new Map<string, Set<WebSocket>>();
  const httpServer: Server = createServer((_request, response) => {
    response.writeHead(404).end();
  });
  const server = new WebSocketServer({
    server: httpServer,
    path: '/ws',
    maxPayload: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
  });

  server.on('connection', (socket) => {
    const joined = new Set<string>();
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      relayFrame(rooms, joined, socket, raw as Buffer, isBinary);
    });
    socket.on('close', () => {
      for (const roomId of joined) {
        const members = rooms.get(roomId);
        members?.delete(socket);
        if (members?.size === 0) {
          rooms.delete(roomId);
        }
      }
    });
    socket.on('error', () => socket.terminate());
  });

  await new Promise<void>((resolve) => httpServer.listen(port, host, resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of server.clients) {
          socket.terminate();
        }
        server.close(() => httpServer.close(() => resolve()));
      }),
  };
}

function relayFrame(
  rooms: Map<string, Set<WebSocket>>,
  joined: Set<string>,
  socket: WebSocket,
  raw: Buffer,
  isBinary: boolean,
): void {
  let frame: IncomingFrame;
  try {
    frame = JSON.parse(raw.toString()) as IncomingFrame;
  } catch {
    sendError(socket, 'INVALID_MESSAGE');
    return;
  }
  const roomId = frame?.data?.roomId;
  if (
    isBinary ||
    typeof frame.event !== 'string' ||
    typeof roomId !== 'string'
  ) {
    sendError(socket, 'INVALID_MESSAGE');
    return;
  }

  if (frame.event === 'JOIN_ROOM') {
    let members = rooms.get(roomId);
    if (!members) {
      members = new Set();
      rooms.set(roomId, members);
    }
    members.add(socket);
    joined.add(roomId);
    socket.send(JSON.stringify({ event: 'ROOM_JOINED', data: { roomId } }));
    return;
  }

  const members = rooms.get(roomId);
  if (!members?.has(socket)) {
    sendError(socket, 'NOT_IN_ROOM');
    return;
  }
  for (const member of members) {
    if (member !== socket) {
      member.send(raw, { binary: false });
    }
  }
  socket.send(
    JSON.stringify({
      event: 'ACK',
      data: { event: frame.event, roomId, eventId: frame.data?.eventId },
    }),
  );
}

function sendError(socket: WebSocket, code: string): void {
  socket.send(JSON.stringify({ event: 'ERROR', data: { code } }));
}
