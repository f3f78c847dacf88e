import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { RelayConnection } from '../rooms/relay-connection.js';

/** Maps each open WebSocket to the `RelayConnection` the services see. */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new WeakMap<WebSocket, RelayConnection>();
  /** Sockets by connection id, until they close. */
  private readonly sockets = new Map<string, WebSocket>();

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
    this.sockets.set(connection.id, socket);
    socket.once('close', () => this.sockets.delete(connection.id));
    return connection;
  }

  /** Closes a connection's socket with a close code; does nothing once it is closed. */
  close(connectionId: string, code: number, reason: string): void {
    this.sockets.get(connectionId)?.close(code, reason);
  }

  get(socket: WebSocket): RelayConnection | undefined {
    return this.connections.get(socket);
  }
}
