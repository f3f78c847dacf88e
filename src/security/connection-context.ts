import { Injectable } from '@nestjs/common';
import type { RelayConnection } from '../relay/rooms/relay-connection.js';

/** Facts about a connection taken from its upgrade request. */
export interface ConnectionContext {
  /** Client address, through trusted proxies (`TRUST_PROXY`). */
  clientAddress: string;
  /** Join token from the upgrade's `?token=` or `Authorization: Bearer`, already verified once. */
  upgradeToken?: string;
}

/** Keeps each connection's `ConnectionContext` for as long as the connection lives. */
@Injectable()
export class ConnectionContextRegistry {
  private readonly contexts = new WeakMap<RelayConnection, ConnectionContext>();

  set(connection: RelayConnection, context: ConnectionContext): void {
    this.contexts.set(connection, context);
  }

  clientAddress(connection: RelayConnection): string {
    return (
      this.contexts.get(connection)?.clientAddress ?? connection.remoteAddress
    );
  }

  upgradeToken(connection: RelayConnection): string | undefined {
    return this.contexts.get(connection)?.upgradeToken;
  }
}
