import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '../protocol/index.js';
import type { JoinRoomDto } from '../relay/dto/join-room.dto.js';
import { RelayException } from '../relay/relay.exception.js';
import type { RelayConnection } from '../relay/rooms/relay-connection.js';
import { RoomStore } from '../relay/rooms/room-store.js';
import { ConnectionContextRegistry } from './connection-context.js';
import { JoinTokenVerifier } from './join-token.verifier.js';
import { SECURITY_OPTIONS, type SecurityOptions } from './security-options.js';
import { SlidingWindowLimiter } from './token-bucket.js';

const MINUTE_MS = 60_000;

/**
 * Decides whether a `JOIN_ROOM` may go ahead: the join token when
 * `AUTH_MODE=jwt`, and the rooms a client address may create per minute.
 *
 * A token is checked at join time only. A member whose token expires later
 * stays in the room until it leaves or disconnects. Any new join, a
 * reconnect included, needs a token that is valid at that moment.
 */
@Injectable()
export class JoinPolicy {
  private readonly roomCreations: SlidingWindowLimiter;

  constructor(
    private readonly tokens: JoinTokenVerifier,
    private readonly contexts: ConnectionContextRegistry,
    private readonly store: RoomStore,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {
    this.roomCreations = new SlidingWindowLimiter(
      options.maxRoomsCreatedPerIpPerMinute,
      MINUTE_MS,
    );
  }

  /**
   * @throws RelayException `UNAUTHORIZED` without a valid token, `FORBIDDEN`
   *   when the token is for another room or role, `TOO_MANY_ROOMS` when the
   *   join would create a room beyond the client address's limit.
   */
  async check(
    connection: RelayConnection,
    dto: JoinRoomDto,
    now: number,
  ): Promise<void> {
    await this.checkToken(connection, dto);
    await this.checkRoomCreation(connection, dto.roomId, now);
  }

  /** Counts a room that a join of this connection created. */
  roomCreated(connection: RelayConnection, now: number): void {
    if (this.options.maxRoomsCreatedPerIpPerMinute === 0) {
      return;
    }
    this.roomCreations.record(this.contexts.clientAddress(connection), now);
  }

  private async checkToken(
    connection: RelayConnection,
    dto: JoinRoomDto,
  ): Promise<void> {
    if (!this.tokens.enabled) {
      return;
    }

    const token = dto.token ?? this.contexts.upgradeToken(connection);
    if (token === undefined) {
      throw new RelayException(
        ErrorCode.UNAUTHORIZED,
        `Joining room "${dto.roomId}" needs a join token: send it in JOIN_ROOM "token"`,
      );
    }
    const claims = await this.tokens.verify(token);
    if (claims.roomId !== dto.roomId) {
      throw new RelayException(
        ErrorCode.FORBIDDEN,
        `The join token is for another room, not "${dto.roomId}"`,
      );
    }
    if (claims.role !== dto.role) {
      throw new RelayException(
        ErrorCode.FORBIDDEN,
        `The join token is for role ${claims.role}, not ${dto.role}`,
      );
    }
  }

  private async checkRoomCreation(
    connection: RelayConnection,
    roomId: string,
    now: number,
  ): Promise<void> {
    if (this.options.maxRoomsCreatedPerIpPerMinute === 0) {
      return;
    }
    const address = this.contexts.clientAddress(connection);
    if (this.roomCreations.allows(address, now)) {
      return;
    }
    // Joining a room that already exists creates nothing, so it stays allowed.
    if (await this.store.getRoom(roomId)) {
      return;
    }
    throw new RelayException(
      ErrorCode.TOO_MANY_ROOMS,
      `This address created ${this.options.maxRoomsCreatedPerIpPerMinute} rooms in the last minute, the maximum (MAX_ROOMS_CREATED_PER_IP_PER_MINUTE); join an existing room or try again later`,
    );
  }
}
