import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { RelayConnection } from '../rooms/relay-connection.js';

/** Maps each open WebSocket to the `RelayConnection` the services see. */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new WeakMap<WebSocket, RelayConnection>();

  create(
    socket: WebSocket,
    request: IncomingMessage | undefined,
  ): RelayConnection {
    const connection: RelayConnection = {
      id: randomUUID(),
      remoteAddress: request?.socket.remoteAddress ?? 'unknown',
      rooms: new Map(),
      messageReceivedAt: 0,
      send(frame: string): void {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(frame);
        }
      },
    };
    this.connections.set(socket, connection);
    return connection;
  }

  get(socket: WebSocket): RelayConnection | undefined {
    return this.connections.get(socket);
  }
}
