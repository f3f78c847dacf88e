import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ErrorCode, LeaveReason, Role } from '../../protocol/index.js';
import type { JoinRoomDto } from '../dto/join-room.dto.js';
import type { FlowEventDto } from '../dto/flow-events.dto.js';
import { PaymentFlowService } from '../flow/payment-flow.service.js';
import {
  ackFrame,
  deliveredFrame,
  peerJoinedFrame,
  peerLeftFrame,
  relayedEventTemplate,
  roomClosedFrame,
  roomJoinedFrame,
  roomLeftFrame,
} from '../frames.js';
import { RelayEvents } from '../relay-events.js';
import { RelayException } from '../relay.exception.js';
import { RELAY_OPTIONS, type RelayOptions } from '../relay-options.js';
import { JoinPolicy } from '../../security/join-policy.js';
import { ResultClaims } from '../../security/results/result-claims.js';
import type { LocalMembership, RelayConnection } from './relay-connection.js';
import {
  RoomStore,
  type Delivery,
  type MemberRecord,
  type RoomRecord,
  type RoomSummary,
} from './room-store.js';

/** Detach marker of a `Delivery` that ends every local membership of the room. */
const ALL_MEMBERS = '*';

export interface RoomsPage {
  /** Rooms on every instance that shares the store. */
  totalRooms: number;
  /** Connections on every instance that shares the store. */
  totalClients: number;
  /** Live instances that share the store, this one included. */
  instances: number;
  /** This instance's own numbers. */
  instance: { instanceId: string; rooms: number; clients: number };
  rooms: RoomSummary[];
}

/**
 * Rooms, membership, relaying and room lifecycle. Shared state lives in the
 * `RoomStore`. This service keeps only the index of this instance's own
 * connections (room → connections and connection → rooms) for delivery.
 */
@Injectable()
export class RoomsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RoomsService.name);
  private readonly connections = new Map<string, RelayConnection>();
  private readonly localMembers = new Map<string, Set<RelayConnection>>();
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: RoomStore,
    private readonly flow: PaymentFlowService,
    private readonly events: RelayEvents,
    @Inject(RELAY_OPTIONS) private readonly options: RelayOptions,
    // Optional only for unit specs that build the service by hand; the
    // relay module always provides both.
    @Optional() private readonly joinPolicy?: JoinPolicy,
    @Optional() private readonly resultClaims?: ResultClaims,
  ) {
    this.store.onDelivery((delivery) => this.deliverLocally(delivery));
    this.store.setLocalStats(() => ({
      clients: this.connections.size,
      rooms: this.localMembers.size,
    }));
  }

  onModuleInit(): void {
    this.sweepTimer = setInterval(() => {
      this.sweep(Date.now()).catch((error: unknown) =>
        this.logger.error('Room sweep failed', error),
      );
    }, this.options.roomSweepIntervalMs);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  connect(connection: RelayConnection): void {
    this.connections.set(connection.id, connection);
  }

  /** Removes a closed connection from every room it was in; harmless twice. */
  async disconnect(connection: RelayConnection): Promise<void> {
    this.connections.delete(connection.id);
    for (const roomId of [...connection.rooms.keys()]) {
      await this.removeMember(connection, roomId);
    }
  }

  /**
   * Joins a connection to a room, creating the room on its first join.
   * @returns the serialized `ROOM_JOINED` frame for the joiner.
   */
  async join(connection: RelayConnection, dto: JoinRoomDto): Promise<string> {
    const { roomId, role } = dto;
    await this.joinPolicy?.check(connection, dto, Date.now());
    const expiresAt = this.parseExpiresAt(dto, Date.now());
    if (
      !connection.rooms.has(roomId) &&
      connection.rooms.size >= this.options.maxRoomsPerConnection
    ) {
      throw new RelayException(
        ErrorCode.TOO_MANY_ROOMS,
        `This connection is already in ${connection.rooms.size} rooms, the maximum (MAX_ROOMS_PER_CONNECTION); leave one before joining "${roomId}"`,
      );
    }

    const current = connection.rooms.get(roomId);
    const clientId =
      dto.clientId ?? current?.clientId ?? this.defaultClientId(connection);
    if (current && (current.role !== role || current.clientId !== clientId)) {
      throw new RelayException(
        ErrorCode.FORBIDDEN,
        `This connection is already in room "${roomId}" as ${current.role} ${current.clientId}: send LEAVE_ROOM before joining as ${role} ${clientId}`,
      );
    }
    const member: MemberRecord = {
      clientId,
      role,
      connectionId: connection.id,
      joinedAt: Date.now(),
      receivedSeq: 0,
    };
    const outcome = await this.store.join({
      roomId,
      member,
      lastSeq: dto.lastSeq,
      expiresAt,
      now: member.joinedAt,
    });
    if (!outcome.ok) {
      throw new RelayException(outcome.code, outcome.message);
    }
    if (outcome.created) {
      this.joinPolicy?.roomCreated(connection, member.joinedAt);
    }

    this.attach(connection, roomId, { role, clientId });
    if (!this.connections.has(connection.id)) {
      // The socket closed while the join was in flight, after `disconnect`
      // already cleaned up: undo the join so no ghost member stays behind.
      await this.removeMember(connection, roomId);
      throw new RelayException(
        ErrorCode.NOT_IN_ROOM,
        `The connection closed before joining room "${roomId}"`,
      );
    }
    const { room, replaced } = outcome;
    if (replaced && replaced.connectionId !== connection.id) {
      this.logger.log(
        `Client ${clientId} took over its membership in room ${roomId} from connection ${replaced.connectionId}`,
        { roomId, clientId, connectionId: connection.id },
      );
      await this.store.publish({
        roomId,
        frame: roomLeftFrame({ roomId, reason: LeaveReason.REPLACED }),
        toConnectionId: replaced.connectionId,
        detach: replaced.connectionId,
      });
    }
    await this.store.publish({
      roomId,
      frame: peerJoinedFrame({ roomId, clientId, role }),
      exceptConnectionId: connection.id,
    });

    this.events.emit('joined', { roomId, role, created: outcome.created });
    this.logger.log(
      `Connection ${connection.id} joined room ${roomId} as ${role} ${clientId}${outcome.created ? ' (room created)' : ''}`,
      { roomId, clientId, connectionId: connection.id, role },
    );
    return roomJoinedFrame(
      {
        roomId,
        clientId,
        role,
        seq: room.seq,
        status: room.status,
        createdAt: new Date(room.createdAt).toISOString(),
        peers: room.members
          .filter((peer) => peer.connectionId !== connection.id)
          .map((peer) => ({ clientId: peer.clientId, role: peer.role })),
        truncated: outcome.truncated,
      },
      outcome.missed,
    );
  }

  /** @returns the serialized `ROOM_LEFT` frame for the leaver. */
  async leave(connection: RelayConnection, roomId: string): Promise<string> {
    this.membershipIn(connection, roomId);
    await this.removeMember(connection, roomId);
    return roomLeftFrame({ roomId, reason: LeaveReason.LEFT });
  }

  /**
   * Records a flow event and relays it to the other members of the room.
   * @returns the serialized `ACK` frame for the sender.
   */
  async publish(
    connection: RelayConnection,
    event: string,
    dto: FlowEventDto,
  ): Promise<string> {
    const { roomId, eventId: givenEventId, ...fields } = dto;
    const { role, clientId } = this.membershipIn(connection, roomId);
    const definition = this.flow.definitionOf(event);
    this.flow.authorize(definition, role, roomId);

    const eventId = givenEventId ?? randomUUID();
    const now = Date.now();
    // A result from a device is unverified: only the payment backend's
    // report through the result endpoint carries `verified: true`.
    const isResult = this.flow.isResult(definition);
    const outcome = await this.store.append({
      roomId,
      connectionId: connection.id,
      event,
      eventId,
      effect: this.resultClaims?.effectOf(definition) ?? definition.effect,
      frame: relayedEventTemplate(
        event,
        roomId,
        eventId,
        new Date(now).toISOString(),
        { clientId, role },
        fields,
        isResult ? false : undefined,
      ),
      now,
    });
    if (!outcome.ok) {
      throw new RelayException(outcome.code, outcome.message);
    }
    if (isResult && !outcome.duplicate) {
      this.resultClaims?.record(roomId, { event, eventId });
    }

    this.events.emit('relayed', {
      roomId,
      event,
      status: outcome.status,
      receivedAt: connection.messageReceivedAt,
      duplicate: outcome.duplicate,
    });
    this.logger.debug(
      `Room ${roomId}: ${event} ${eventId} from ${clientId} is seq ${outcome.seq}${outcome.duplicate ? ' (duplicate)' : ''}`,
      { roomId, clientId, event, eventId, connectionId: connection.id },
    );
    if (!outcome.duplicate && isResult) {
      this.logger.log(
        `Room ${roomId}: payment flow finished with ${event} (unverified, from ${clientId}; status ${outcome.status})`,
        { roomId, clientId, event },
      );
    }
    return ackFrame({
      event,
      roomId,
      eventId,
      seq: outcome.seq,
      deliveredTo: outcome.recipients,
      duplicate: outcome.duplicate,
    });
  }

  /**
   * Records the highest contiguous `seq` a member handed to its app. When a
   * creator's confirmed `seq` advances, the room's payer gets `DELIVERED`.
   * `RECEIVED` has no reply, so this returns nothing.
   */
  async confirmReceived(
    connection: RelayConnection,
    roomId: string,
    seq: number,
  ): Promise<void> {
    this.membershipIn(connection, roomId);
    const outcome = await this.store.confirmReceived(
      roomId,
      connection.id,
      seq,
    );
    if (!outcome?.advanced || outcome.member.role !== Role.CREATOR) {
      return;
    }

    // NOTE: a payer that is not connected now never gets this DELIVERED;
    // it learns the creator's progress from the next one.
    const room = await this.store.getRoom(roomId);
    const payer = room?.members.find((member) => member.role === Role.PAYER);
    this.logger.debug(
      `Room ${roomId}: creator ${outcome.member.clientId} confirmed seq ${outcome.receivedSeq}`,
      { roomId, clientId: outcome.member.clientId },
    );
    if (!payer) {
      return;
    }
    await this.store.publish({
      roomId,
      frame: deliveredFrame({
        roomId,
        seq: outcome.receivedSeq,
        clientId: outcome.member.clientId,
      }),
      toConnectionId: payer.connectionId,
    });
  }

  getRoom(roomId: string): Promise<RoomRecord | undefined> {
    return this.store.getRoom(roomId);
  }

  async listRooms(offset: number, limit: number): Promise<RoomsPage> {
    const page = await this.store.listRooms(offset, limit);
    const cluster = await this.store.clusterStats();
    return {
      totalRooms: page.total,
      totalClients: cluster.clients,
      instances: cluster.instances,
      instance: {
        instanceId: this.store.instanceId,
        rooms: this.localMembers.size,
        clients: this.connections.size,
      },
      rooms: page.rooms,
    };
  }

  /** Closes expired and too old rooms and removes idle ones. */
  async sweep(now: number): Promise<void> {
    const { closed, removed } = await this.store.sweep(now);
    for (const { roomId, reason } of closed) {
      this.logger.log(`Room ${roomId} closed: ${reason}`, { roomId });
      this.events.emit('roomClosed', { roomId, reason });
      await this.store.publish({
        roomId,
        frame: roomClosedFrame({ roomId, reason }),
        detach: ALL_MEMBERS,
      });
    }
    for (const roomId of removed) {
      this.logger.log(`Room ${roomId} removed after being idle`, { roomId });
      this.events.emit('roomRemoved', { roomId });
    }
  }

  private async removeMember(
    connection: RelayConnection,
    roomId: string,
  ): Promise<void> {
    this.detach(connection, roomId);
    const outcome = await this.store.leave(roomId, connection.id, Date.now());
    if (!outcome) {
      return;
    }

    const { clientId, role } = outcome.member;
    this.events.emit('left', { roomId, role });
    this.logger.log(
      `Connection ${connection.id} left room ${roomId} (${role} ${clientId}); ${outcome.remaining} member(s) remain`,
      { roomId, clientId, connectionId: connection.id, role },
    );
    await this.store.publish({
      roomId,
      frame: peerLeftFrame({ roomId, clientId, role }),
      exceptConnectionId: connection.id,
    });
  }

  private deliverLocally(delivery: Delivery): void {
    const members = this.localMembers.get(delivery.roomId);
    if (!members) {
      return;
    }

    const recipients = [...members];
    for (const connection of recipients) {
      if (
        connection.id === delivery.exceptConnectionId ||
        (delivery.toConnectionId !== undefined &&
          connection.id !== delivery.toConnectionId)
      ) {
        continue;
      }
      connection.send(delivery.frame);
      if (
        delivery.detach === ALL_MEMBERS ||
        delivery.detach === connection.id
      ) {
        this.detach(connection, delivery.roomId);
      }
    }
  }

  private attach(
    connection: RelayConnection,
    roomId: string,
    membership: LocalMembership,
  ): void {
    connection.rooms.set(roomId, membership);
    let members = this.localMembers.get(roomId);
    if (!members) {
      members = new Set();
      this.localMembers.set(roomId, members);
    }
    members.add(connection);
  }

  private detach(connection: RelayConnection, roomId: string): void {
    connection.rooms.delete(roomId);
    const members = this.localMembers.get(roomId);
    if (!members) {
      return;
    }
    members.delete(connection);
    if (members.size === 0) {
      this.localMembers.delete(roomId);
    }
  }

  /** @throws RelayException `NOT_IN_ROOM` when the connection is not a member. */
  private membershipIn(
    connection: RelayConnection,
    roomId: string,
  ): LocalMembership {
    const membership = connection.rooms.get(roomId);
    if (membership === undefined) {
      throw new RelayException(
        ErrorCode.NOT_IN_ROOM,
        `This connection is not a member of room "${roomId}": send JOIN_ROOM first`,
      );
    }
    return membership;
  }

  private defaultClientId(connection: RelayConnection): string {
    connection.defaultClientId ??= randomUUID();
    return connection.defaultClientId;
  }

  private parseExpiresAt(dto: JoinRoomDto, now: number): number | undefined {
    if (dto.expiresAt === undefined) {
      return undefined;
    }
    if (dto.role !== Role.CREATOR) {
      throw new RelayException(
        ErrorCode.VALIDATION_FAILED,
        `expiresAt may only be set by a CREATOR, but this join is ${dto.role}`,
        [
          {
            field: 'expiresAt',
            messages: ['only a CREATOR may set expiresAt'],
          },
        ],
      );
    }
    const expiresAt = Date.parse(dto.expiresAt);
    if (Number.isNaN(expiresAt)) {
      // The ISO 8601 check passes forms such as week dates that Date.parse
      // cannot read, and a NaN expiry would never close the room.
      throw new RelayException(
        ErrorCode.VALIDATION_FAILED,
        `expiresAt "${dto.expiresAt}" is not a date and time the server can read: use YYYY-MM-DDThh:mm:ssZ or an offset such as -03:00`,
        [
          {
            field: 'expiresAt',
            messages: ['expiresAt must be a readable date and time'],
          },
        ],
      );
    }
    if (expiresAt <= now) {
      throw new RelayException(
        ErrorCode.VALIDATION_FAILED,
        `expiresAt "${dto.expiresAt}" is in the past`,
        [{ field: 'expiresAt', messages: ['expiresAt must be in the future'] }],
      );
    }
    return expiresAt;
  }
}
