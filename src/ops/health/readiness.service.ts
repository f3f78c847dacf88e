import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
} from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { RoomStore } from '../../relay/rooms/room-store.js';
import { OPS_OPTIONS, type OpsOptions } from '../ops-options.js';

/**
 * Optional store method that reports whether the store can serve requests
 * now, such as a Redis store whose connection is up. A store without it
 * counts as always available.
 */
export interface AvailabilityCheck {
  isAvailable(): boolean | Promise<boolean>;
}

export type CheckState = 'ok' | 'failing' | 'not-applicable';

export interface ReadinessReport {
  ready: boolean;
  checks: {
    /** `failing` once shutdown has started. */
    shutdown: CheckState;
    /** `failing` while the store's `isAvailable()` returns false, throws or times out. */
    store: CheckState;
  };
}

function hasAvailabilityCheck(store: object): store is AvailabilityCheck {
  return (
    typeof (store as Partial<AvailabilityCheck>).isAvailable === 'function'
  );
}

/**
 * Readiness of this instance. Shutdown turns it false before anything else
 * closes: Nest calls every `onModuleDestroy` hook before the WebSocket
 * adapter closes the clients with 1012, and this hook then waits
 * `shutdownDrainDelayMs` so that load balancers see the change first.
 */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private readonly logger = new Logger(ReadinessService.name);
  private shuttingDown = false;
  private readonly drainListeners = new Set<() => void>();

  constructor(
    private readonly store: RoomStore,
    @Inject(OPS_OPTIONS) private readonly options: OpsOptions,
  ) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Calls `listener` once when shutdown starts; returns the function that removes it. */
  onShutdown(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    this.logger.log(
      `Readiness is false: draining for ${this.options.shutdownDrainDelayMs} ms before connections close`,
    );
    for (const listener of [...this.drainListeners]) {
      listener();
    }
    this.drainListeners.clear();
    if (this.options.shutdownDrainDelayMs > 0) {
      await delay(this.options.shutdownDrainDelayMs);
    }
  }

  async check(): Promise<ReadinessReport> {
    const store = await this.checkStore();
    const shutdown: CheckState = this.shuttingDown ? 'failing' : 'ok';
    return {
      ready: shutdown === 'ok' && store !== 'failing',
      checks: { shutdown, store },
    };
  }

  private async checkStore(): Promise<CheckState> {
    if (!hasAvailabilityCheck(this.store)) {
      return 'not-applicable';
    }

    const timeout = new AbortController();
    try {
      const available = await Promise.race([
        Promise.resolve(this.store.isAvailable()),
        delay(this.options.readinessCheckTimeoutMs, false, {
          signal: timeout.signal,
        }),
      ]);
      return available ? 'ok' : 'failing';
    } catch (error) {
      this.logger.warn(
        `Room store availability check failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 'failing';
    } finally {
      timeout.abort();
    }
  }
}
