import type { EnvironmentVariables } from '../config/environment.js';
import type { OpsOptions } from './ops-options.js';

type OpsSettings = Pick<
  EnvironmentVariables,
  | 'NODE_ENV'
  | 'DEMO_PAGES'
  | 'SHUTDOWN_TIMEOUT_MS'
  | 'SHUTDOWN_DRAIN_DELAY_MS'
  | 'READINESS_CHECK_TIMEOUT_MS'
  | 'ADMIN_LIVE_INTERVAL_MS'
>;

/** Tells whether the demo pages are served: `DEMO_PAGES`, or on outside production when unset. */
export function demoPagesEnabled(
  env: Pick<EnvironmentVariables, 'NODE_ENV' | 'DEMO_PAGES'>,
): boolean {
  if (env.DEMO_PAGES !== undefined) {
    return env.DEMO_PAGES === 'true';
  }
  return env.NODE_ENV !== 'production';
}

/**
 * Checks the operations settings against each other: the drain delay runs
 * inside `SHUTDOWN_TIMEOUT_MS`, and the connections still need time to
 * close after it.
 */
export function opsSettingProblems(env: OpsSettings): string[] {
  if (env.SHUTDOWN_DRAIN_DELAY_MS * 2 > env.SHUTDOWN_TIMEOUT_MS) {
    return [
      `SHUTDOWN_DRAIN_DELAY_MS="${env.SHUTDOWN_DRAIN_DELAY_MS}": must be at most half of SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS}), so that connections have time to close after the drain`,
    ];
  }
  return [];
}

export function opsOptionsFromEnvironment(env: OpsSettings): OpsOptions {
  return {
    shutdownDrainDelayMs: env.SHUTDOWN_DRAIN_DELAY_MS,
    readinessCheckTimeoutMs: env.READINESS_CHECK_TIMEOUT_MS,
    adminLiveIntervalMs: env.ADMIN_LIVE_INTERVAL_MS,
  };
}
