import type { Role } from '../../protocol/index.js';

export interface LocalMembership {
  role: Role;
  clientId: string;
}

/**
 * One device's WebSocket connection as the services see it. The gateway
 * creates it; `RoomsService` keeps its local room memberships in `rooms`.
 */
export interface RelayConnection {
  /** Server-assigned id, unique per connection. */
  readonly id: string;
  /** Remote address, for logs and per-address limits. */
  readonly remoteAddress: string;
  /** `clientId` used for joins that give none; fixed at the first such join. */
  defaultClientId?: string;
  /** Rooms this connection is a member of, keyed by room id. */
  readonly rooms: Map<string, LocalMembership>;
  /** `performance.now()` when the message being handled arrived; set by the adapter. */
  messageReceivedAt: number;
  /** Sends a serialized frame; does nothing once the socket is closing. */
  send(frame: string): void;
}
