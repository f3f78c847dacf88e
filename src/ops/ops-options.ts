/** Settings of the operations module. */
export interface OpsOptions {
  /**
   * Time between readiness turning false and the closing of WebSocket
   * connections at shutdown, in ms, so that load balancers stop sending new
   * clients first.
   */
  shutdownDrainDelayMs: number;
  /** Longest wait for the store's availability check in `/health/ready`, in ms. */
  readinessCheckTimeoutMs: number;
  /** Interval at which the admin live stream pushes batched room changes, in ms. */
  adminLiveIntervalMs: number;
}

export const DEFAULT_OPS_OPTIONS: OpsOptions = {
  shutdownDrainDelayMs: 0,
  readinessCheckTimeoutMs: 1_000,
  adminLiveIntervalMs: 250,
};

/** Injection token of the resolved `OpsOptions`. */
export const OPS_OPTIONS = Symbol('OPS_OPTIONS');
