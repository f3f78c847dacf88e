import type { BenchProfile } from './profiles.js';
import type { ConnectionResult, LoadScenarioResult } from './scenarios.js';
import type { ServerId } from './servers/launch.js';

/** One server's results in one repetition; a failed scenario leaves its error. */
export interface ServerRun {
  connections?: ConnectionResult;
  connectionsError?: string;
  load?: LoadScenarioResult;
  loadError?: string;
}

export interface Repetition {
  index: number;
  order: ServerId[];
  runs: Partial<Record<ServerId, ServerRun>>;
}

export interface ServerAvailability {
  id: ServerId;
  label: string;
  available: boolean;
  /** Reason the server was left out. */
  reason?: string;
}

/** The content of one `bench/results/*.json` file. */
export interface BenchResults {
  formatVersion: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: {
    cpuModel: string;
    cpus: number;
    memoryBytes: number;
    os: string;
    /** 1-minute load averages when the run started and ended. */
    loadAverageStart: number;
    loadAverageEnd: number;
  };
  node: string;
  /** CPU lists given to `taskset`; absent when processes ran unpinned. */
  pinning?: { servers: string; generators: string };
  profile: BenchProfile;
  servers: ServerAvailability[];
  repetitions: Repetition[];
}
