import type { ConnectionSettings, LoadSettings } from './scenarios.js';

export interface BenchProfile {
  name: 'full' | 'quick';
  repetitions: number;
  connections: ConnectionSettings;
  /** Generator processes of the connection scenario; each stays under the per-process file limit. */
  connectionGenerators: number;
  load: LoadSettings;
}

const LOAD_LIMITS = {
  maxP99Ms: 50,
  minDelivery: 0.999,
  settleTimeoutMs: 60_000,
};

/**
 * The full run: 19,000 connections (the file-descriptor limit is 20,000 per
 * process on the reference machine), 1,000 rooms of two for the latency and
 * throughput scenarios, medians of three repetitions.
 */
export const FULL_PROFILE: BenchProfile = {
  name: 'full',
  repetitions: 3,
  connections: {
    connections: 19_000,
    connectRate: 2_000,
    holdMs: 3_000,
    timeoutMs: 30_000,
  },
  connectionGenerators: 2,
  load: {
    rooms: 1_000,
    connectRate: 2_000,
    timeoutMs: 10_000,
    warmupRate: 5_000,
    warmupMs: 3_000,
    latencyRates: [1_000, 5_000, 10_000, 20_000],
    latencyDurationMs: 10_000,
    throughputRates: [
      5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000,
      80_000, 100_000,
    ],
    throughputDurationMs: 5_000,
    drainMs: 3_000,
    ...LOAD_LIMITS,
  },
};

/** A quick look in under two minutes: fewer connections, shorter steps, one repetition. */
export const QUICK_PROFILE: BenchProfile = {
  name: 'quick',
  repetitions: 1,
  connections: {
    connections: 2_000,
    connectRate: 2_000,
    holdMs: 1_000,
    timeoutMs: 10_000,
  },
  connectionGenerators: 1,
  load: {
    rooms: 1_000,
    connectRate: 4_000,
    timeoutMs: 10_000,
    warmupRate: 5_000,
    warmupMs: 1_000,
    latencyRates: [1_000, 10_000],
    latencyDurationMs: 2_000,
    throughputRates: [10_000, 20_000, 30_000, 45_000, 60_000],
    throughputDurationMs: 1_500,
    drainMs: 1_500,
    ...LOAD_LIMITS,
  },
};
