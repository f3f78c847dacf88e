import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Role, RoomCloseReason, RoomStatus } from '../protocol/index.js';

/**
 * Events inside the relay, for observers such as metrics and the admin live
 * view. Payloads carry ids and names only, never payment data.
 */
export interface RelayEventMap {
  connectionOpened: [{ connectionId: string }];
  connectionClosed: [{ connectionId: string }];
  /** A connection missed a heartbeat and was terminated. */
  heartbeatTerminated: [{ connectionId: string }];
  joined: [{ roomId: string; role: Role; created: boolean }];
  left: [{ roomId: string; role: Role }];
  /**
   * A flow event was accepted and published. `receivedAt` is
   * `performance.now()` when its frame arrived.
   */
  relayed: [
    {
      roomId: string;
      event: string;
      status: RoomStatus;
      receivedAt: number;
      duplicate: boolean;
    },
  ];
  /** The server replied to a message with `ERROR`. */
  rejected: [{ code: string; event?: string }];
  roomClosed: [{ roomId: string; reason: RoomCloseReason }];
  roomRemoved: [{ roomId: string }];
}

/** Emitter of `RelayEventMap`; the relay module provides one instance. */
@Injectable()
export class RelayEvents extends EventEmitter<RelayEventMap> {}
