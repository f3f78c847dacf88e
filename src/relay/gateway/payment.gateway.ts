import { Logger, UseFilters } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ClientEvent, ServerEvent } from '../../protocol/index.js';
import type { FlowEventDto } from '../dto/flow-events.dto.js';
import { JoinRoomDto } from '../dto/join-room.dto.js';
import { LeaveRoomDto } from '../dto/leave-room.dto.js';
import { ReceivedDto } from '../dto/received.dto.js';
import { encodeFrame } from '../frames.js';
import { RelayEvents } from '../relay-events.js';
import { RoomsService } from '../rooms/rooms.service.js';
import { ConnectionRegistry } from './connection-registry.js';
import { FlowEventValidationPipe } from './flow-event-validation.pipe.js';
import { FlowMessageBody, type FlowMessage } from './flow-message.decorator.js';
import { FLOW_EVENT_PATTERN } from './message-patterns.js';
import { RelayExceptionFilter } from './relay-exception.filter.js';
import { RelayValidationPipe } from './relay-validation.pipe.js';

/**
 * Translates between WebSocket frames and the services. It keeps no room
 * state and no flow rules. Each handler returns the serialized reply for the
 * sender; `RelayWsAdapter` sends it and keeps replies in message order.
 */
@WebSocketGateway()
@UseFilters(RelayExceptionFilter)
export class PaymentGateway
  implements OnGatewayConnection<WebSocket>, OnGatewayDisconnect<WebSocket>
{
  private readonly logger = new Logger(PaymentGateway.name);

  constructor(
    private readonly rooms: RoomsService,
    private readonly registry: ConnectionRegistry,
    private readonly events: RelayEvents,
  ) {}

  // Nest ends the process on a throw here, so nothing may escape.
  handleConnection(socket: WebSocket, request?: IncomingMessage): void {
    try {
      const connection = this.registry.create(socket, request);
      this.rooms.connect(connection);
      this.events.emit('connectionOpened', { connectionId: connection.id });
      this.logger.log(
        `Connection ${connection.id} opened from ${connection.remoteAddress}`,
        { connectionId: connection.id },
      );
    } catch (error) {
      this.logger.error('Failed to register a connection', error);
      socket.terminate();
    }
  }

  // Nest ends the process on a throw or a rejection here, so nothing may escape.
  handleDisconnect(socket: WebSocket): void {
    const connection = this.registry.get(socket);
    if (!connection) {
      return;
    }
    this.logger.log(`Connection ${connection.id} closed`, {
      connectionId: connection.id,
    });
    this.events.emit('connectionClosed', { connectionId: connection.id });
    this.rooms.disconnect(connection).catch((error: unknown) => {
      this.logger.error(
        `Failed to clean up after connection ${connection.id}`,
        error,
      );
    });
  }

  @SubscribeMessage(ClientEvent.JOIN_ROOM)
  join(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(RelayValidationPipe) dto: JoinRoomDto,
  ): Promise<string> {
    return this.rooms.join(this.connectionOf(socket), dto);
  }

  @SubscribeMessage(ClientEvent.LEAVE_ROOM)
  leave(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(RelayValidationPipe) dto: LeaveRoomDto,
  ): Promise<string> {
    return this.rooms.leave(this.connectionOf(socket), dto.roomId);
  }

  @SubscribeMessage(FLOW_EVENT_PATTERN)
  relay(
    @ConnectedSocket() socket: WebSocket,
    @FlowMessageBody(FlowEventValidationPipe)
    message: FlowMessage<FlowEventDto>,
  ): Promise<string> {
    return this.rooms.publish(
      this.connectionOf(socket),
      message.event,
      message.data,
    );
  }

  /** `RECEIVED` gets no reply unless it is rejected with an `ERROR`. */
  @SubscribeMessage(ClientEvent.RECEIVED)
  received(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(RelayValidationPipe) dto: ReceivedDto,
  ): Promise<void> {
    return this.rooms.confirmReceived(
      this.connectionOf(socket),
      dto.roomId,
      dto.seq,
    );
  }

  @SubscribeMessage(ClientEvent.PING)
  ping(): string {
    return encodeFrame(ServerEvent.PONG, { at: new Date().toISOString() });
  }

  private connectionOf(socket: WebSocket) {
    const connection = this.registry.get(socket);
    if (!connection) {
      throw new Error('Message on a connection that was never registered');
    }
    return connection;
  }
}
