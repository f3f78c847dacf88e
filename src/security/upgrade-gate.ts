import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { RelayException } from '../relay/relay.exception.js';
import { clientAddressOf } from './client-address.js';
import { bearerToken } from './constant-time.js';
import type { ConnectionContext } from './connection-context.js';
import { JoinTokenVerifier } from './join-token.verifier.js';
import { SECURITY_OPTIONS, type SecurityOptions } from './security-options.js';

/** An upgrade the gate rejected, with the HTTP status of the response. */
export interface UpgradeRejection {
  ok: false;
  status: 401 | 403 | 429 | 503;
  reason: string;
}

/** An accepted upgrade. It occupies a connection slot until `release` is called. */
export interface UpgradeAdmission {
  ok: true;
  context: ConnectionContext;
}

/**
 * Checks a WebSocket upgrade before any WebSocket state exists: the
 * `Origin` allow-list, the connection caps per client address and in total,
 * and a join token sent on the upgrade. Counts open connections per address.
 */
@Injectable()
export class UpgradeGate {
  private readonly logger = new Logger(UpgradeGate.name);
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly tokens: JoinTokenVerifier,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  get openConnections(): number {
    return this.total;
  }

  /**
   * Admits an upgrade or returns why it is rejected. An admission takes a connection
   * slot, which the caller gives back with `release` when the socket closes.
   */
  async admit(
    request: IncomingMessage,
  ): Promise<UpgradeAdmission | UpgradeRejection> {
    const clientAddress = clientAddressOf(request, this.options.trustProxy);
    const origin = request.headers.origin;
    if (!this.originAllowed(origin)) {
      this.logger.log(
        `Upgrade from ${clientAddress} rejected: origin ${origin === undefined ? '(none)' : JSON.stringify(origin.slice(0, 200))} is not allowed`,
      );
      return { ok: false, status: 403, reason: 'Origin not allowed' };
    }

    const token = upgradeTokenOf(request);
    if (token !== undefined && this.tokens.enabled) {
      try {
        await this.tokens.verify(token);
      } catch (error) {
        const message =
          error instanceof RelayException ? error.message : 'invalid token';
        this.logger.log(`Upgrade from ${clientAddress} rejected: ${message}`);
        return { ok: false, status: 401, reason: 'Invalid join token' };
      }
    }

    const { maxConnections, maxConnectionsPerIp } = this.options;
    if (maxConnections > 0 && this.total >= maxConnections) {
      this.logger.warn(
        `Upgrade from ${clientAddress} rejected: ${this.total} connections open, the maximum (MAX_CONNECTIONS)`,
      );
      return { ok: false, status: 503, reason: 'Too many connections' };
    }
    const fromAddress = this.perAddress.get(clientAddress) ?? 0;
    if (maxConnectionsPerIp > 0 && fromAddress >= maxConnectionsPerIp) {
      this.logger.log(
        `Upgrade from ${clientAddress} rejected: ${fromAddress} connections open from it, the maximum (MAX_CONNECTIONS_PER_IP)`,
      );
      return {
        ok: false,
        status: 429,
        reason: 'Too many connections from this address',
      };
    }

    this.total += 1;
    this.perAddress.set(clientAddress, fromAddress + 1);
    return { ok: true, context: { clientAddress, upgradeToken: token } };
  }

  /** Gives back the slot of an admitted upgrade; call once per admission. */
  release(context: ConnectionContext): void {
    this.total = Math.max(0, this.total - 1);
    const remaining = (this.perAddress.get(context.clientAddress) ?? 1) - 1;
    if (remaining <= 0) {
      this.perAddress.delete(context.clientAddress);
    } else {
      this.perAddress.set(context.clientAddress, remaining);
    }
  }

  private originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) {
      return this.options.allowMissingOrigin;
    }
    const { allowedOrigins } = this.options;
    return allowedOrigins.length === 0 || allowedOrigins.includes(origin);
  }
}

/** Returns the join token of an upgrade: `Authorization: Bearer` first, then `?token=`. */
function upgradeTokenOf(request: IncomingMessage): string | undefined {
  const fromHeader = bearerToken(request.headers.authorization);
  if (fromHeader !== undefined) {
    return fromHeader;
  }
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query < 0) {
    return undefined;
  }
  return new URLSearchParams(url.slice(query + 1)).get('token') ?? undefined;
}
