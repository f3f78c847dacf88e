import type { FramingName } from './load/framing.js';
import type { GeneratorClient, LoadResult } from './load/generator.js';
import type { ProbeReading } from './servers/probe.js';
import { latencyStats, mergeHistograms, type LatencyStats } from './stats.js';

/** Server under test, in-process or in its own process, as a scenario uses it. */
export interface ServerUnderTest {
  port: number;
  framing: FramingName;
  /** CPU time and memory of the server process, after a full GC when asked. */
  probe(collectGarbage: boolean): Promise<ProbeReading>;
  /** CPU time of a helper process the server needs (Redis), in microseconds. */
  companionCpuMicros?: () => Promise<number>;
}

export interface ConnectionSettings {
  /** Connections to open, two per room. */
  connections: number;
  /** Connections opened per second, all generators together. */
  connectRate: number;
  /** Time the connections stay idle before memory is read, in ms. */
  holdMs: number;
  timeoutMs: number;
}

export interface LoadSettings {
  rooms: number;
  connectRate: number;
  timeoutMs: number;
  warmupRate: number;
  warmupMs: number;
  /** Offered rates of the latency scenario, events per second. */
  latencyRates: number[];
  latencyDurationMs: number;
  /** Offered rates tried in order by the throughput scenario. */
  throughputRates: number[];
  throughputDurationMs: number;
  drainMs: number;
  /** Longest wait for the server to go idle after a step, in ms. */
  settleTimeoutMs: number;
  /** A throughput step fails above this p99, in ms. */
  maxP99Ms: number;
  /** A throughput step fails below this share of events delivered. */
  minDelivery: number;
}

export interface ConnectionResult {
  requested: number;
  joined: number;
  failed: number;
  errorSamples: string[];
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** (RSS at N − RSS at 0) / N. */
  rssPerConnectionBytes: number;
  heapPerConnectionBytes: number;
  /** Scheduled start of a connection to its `ROOM_JOINED`. */
  connectTime: LatencyStats;
  rooms: number;
  /** Rooms whose creator received the one event sent in each, after the hold. */
  roomsRelaying: number;
  relayErrors: number;
}

export interface LoadStepResult {
  offeredRate: number;
  sent: number;
  received: number;
  lost: number;
  /** received / sent. */
  delivery: number;
  errors: number;
  errorSamples: string[];
  /** Events delivered per second over the step. */
  deliveredRate: number;
  latency: LatencyStats;
  /** How late the generator sent, p99, in ms: a large value means the generator itself was saturated. */
  sendLagP99Ms: number;
  /** Server process CPU time per delivered event, in microseconds. */
  serverCpuMicrosPerEvent: number;
  /** Server process CPU time over wall time: 1 is one core busy. */
  serverCpuShare: number;
  generatorCpuShare: number;
  /** Redis CPU time per delivered event, in microseconds, for the Redis store column. */
  companionCpuMicrosPerEvent?: number;
}

export interface ThroughputResult {
  steps: LoadStepResult[];
  /** Delivered rate of the highest step that passed; `null` when none did. */
  sustainedRate: number | null;
  sustainedOfferedRate: number | null;
  /** Reason the stepping stopped. */
  stoppedBecause: string;
}

export interface LoadScenarioResult {
  setupFailed: number;
  setupErrorSamples: string[];
  latency: LoadStepResult[];
  throughput: ThroughputResult;
}

/**
 * Connection scenario: opens `connections` connections in rooms of two at a
 * fixed rate, split over the generators, keeps them idle, reads the server's
 * memory, then sends one event in every room to check that each still relays.
 */
export async function runConnectionScenario(
  server: ServerUnderTest,
  generators: GeneratorClient[],
  settings: ConnectionSettings,
): Promise<ConnectionResult> {
  const before = await server.probe(true);
  const rooms = Math.floor(settings.connections / 2);
  const roomIds = Array.from({ length: rooms }, (_, index) => `c${index}`);
  const shares = splitRooms(roomIds, generators.length);

  const setups = await Promise.all(
    generators.map((generator, index) =>
      generator.setup({
        port: server.port,
        framing: server.framing,
        roomIds: shares[index],
        connectRate: settings.connectRate / generators.length,
        timeoutMs: settings.timeoutMs,
      }),
    ),
  );
  await sleep(settings.holdMs);
  const after = await server.probe(true);

  const checks = await Promise.all(
    generators.map((generator, index) =>
      shares[index].length === 0
        ? Promise.resolve(undefined)
        : generator
            .load({
              rate: 2_000 / generators.length,
              count: shares[index].length,
              drainMs: 5_000,
            })
            .catch(() => undefined),
    ),
  );

  const joined = sum(setups.map((setup) => setup.joined));
  return {
    requested: rooms * 2,
    joined,
    failed: sum(setups.map((setup) => setup.failed)),
    errorSamples: setups.flatMap((setup) => setup.errorSamples).slice(0, 5),
    rssBeforeBytes: before.rssBytes,
    rssAfterBytes: after.rssBytes,
    heapBeforeBytes: before.heapUsedBytes,
    heapAfterBytes: after.heapUsedBytes,
    rssPerConnectionBytes:
      joined > 0 ? (after.rssBytes - before.rssBytes) / joined : 0,
    heapPerConnectionBytes:
      joined > 0 ? (after.heapUsedBytes - before.heapUsedBytes) / joined : 0,
    connectTime: latencyStats(
      mergeHistograms(setups.map((setup) => setup.connectTimes)),
    ),
    rooms,
    roomsRelaying: sum(checks.map((check) => check?.roomsDelivered ?? 0)),
    relayErrors: sum(checks.map((check) => check?.errors ?? 1)),
  };
}

/**
 * Latency and throughput scenarios on one set of rooms: a warm-up, then
 * each latency rate in turn, then throughput steps from the lowest rate up
 * until p99 passes `maxP99Ms`, delivery drops below `minDelivery` or an
 * error occurs.
 */
export async function runLoadScenario(
  server: ServerUnderTest,
  generator: GeneratorClient,
  settings: LoadSettings,
): Promise<LoadScenarioResult> {
  const roomIds = Array.from({ length: settings.rooms }, (_, i) => `r${i}`);
  const setup = await generator.setup({
    port: server.port,
    framing: server.framing,
    roomIds,
    connectRate: settings.connectRate,
    timeoutMs: settings.timeoutMs,
  });
  if (setup.joined < settings.rooms * 2) {
    throw new Error(
      `Only ${setup.joined} of ${settings.rooms * 2} connections joined: ${setup.errorSamples.join('; ')}`,
    );
  }

  await generator.load({
    rate: settings.warmupRate,
    count: Math.round((settings.warmupRate * settings.warmupMs) / 1000),
    drainMs: settings.drainMs,
  });
  await waitUntilIdle(server, settings.settleTimeoutMs);

  const latency: LoadStepResult[] = [];
  for (const rate of settings.latencyRates) {
    latency.push(
      await measureStep(
        server,
        generator,
        rate,
        settings.latencyDurationMs,
        settings.drainMs,
      ),
    );
    await waitUntilIdle(server, settings.settleTimeoutMs);
  }

  const steps: LoadStepResult[] = [];
  let sustained: LoadStepResult | undefined;
  let stoppedBecause =
    settings.throughputRates.length === 0
      ? 'not run'
      : `reached the highest rate tried (${settings.throughputRates.at(-1)}/s)`;
  for (const rate of settings.throughputRates) {
    const step = await measureStep(
      server,
      generator,
      rate,
      settings.throughputDurationMs,
      settings.drainMs,
    );
    steps.push(step);
    await waitUntilIdle(server, settings.settleTimeoutMs);
    const failure = stepFailure(step, settings);
    if (failure) {
      stoppedBecause = `${rate}/s: ${failure}`;
      break;
    }
    sustained = step;
  }

  return {
    setupFailed: setup.failed,
    setupErrorSamples: setup.errorSamples,
    latency,
    throughput: {
      steps,
      sustainedRate: sustained ? Math.round(sustained.deliveredRate) : null,
      sustainedOfferedRate: sustained?.offeredRate ?? null,
      stoppedBecause,
    },
  };
}

function stepFailure(
  step: LoadStepResult,
  settings: LoadSettings,
): string | undefined {
  if (step.errors > 0) {
    return `${step.errors} error(s): ${step.errorSamples[0] ?? ''}`;
  }
  if (step.delivery < settings.minDelivery) {
    return `delivered ${(step.delivery * 100).toFixed(2)}% of events`;
  }
  if (step.latency.p99 > settings.maxP99Ms) {
    return `p99 ${step.latency.p99} ms is above ${settings.maxP99Ms} ms`;
  }
  return undefined;
}

async function measureStep(
  server: ServerUnderTest,
  generator: GeneratorClient,
  rate: number,
  durationMs: number,
  drainMs: number,
): Promise<LoadStepResult> {
  const before = await server.probe(false);
  const companionBefore = await server.companionCpuMicros?.();
  const startedAt = performance.now();
  const result: LoadResult = await generator.load({
    rate,
    count: Math.round((rate * durationMs) / 1000),
    drainMs,
  });
  const wallMicros = (performance.now() - startedAt) * 1000;
  const after = await server.probe(false);
  const companionAfter = await server.companionCpuMicros?.();

  const delivered = Math.max(result.received, 1);
  const serverCpuMicros = after.cpuMicros - before.cpuMicros;
  const step: LoadStepResult = {
    offeredRate: rate,
    sent: result.sent,
    received: result.received,
    lost: result.sent - result.received,
    delivery: result.sent > 0 ? result.received / result.sent : 0,
    errors: result.errors,
    errorSamples: result.errorSamples,
    deliveredRate: result.received / (result.elapsedMs / 1000),
    latency: latencyStats(mergeHistograms([result.latency])),
    sendLagP99Ms: latencyStats(mergeHistograms([result.sendLag])).p99,
    serverCpuMicrosPerEvent: round(serverCpuMicros / delivered, 2),
    serverCpuShare: round(serverCpuMicros / wallMicros, 3),
    generatorCpuShare: round(result.generatorCpuMicros / wallMicros, 3),
  };
  if (companionBefore !== undefined && companionAfter !== undefined) {
    step.companionCpuMicrosPerEvent = round(
      (companionAfter - companionBefore) / delivered,
      2,
    );
  }
  return step;
}

/** Server CPU share below which the server counts as idle. */
const IDLE_CPU_SHARE = 0.05;
const IDLE_WINDOW_MS = 250;

/**
 * Waits until the server's CPU use over a short window falls below
 * `IDLE_CPU_SHARE` of a core, so the backlog of an overloaded step does not
 * spill into the next one. Gives up after `timeoutMs`.
 */
async function waitUntilIdle(
  server: ServerUnderTest,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let previous = await server.probe(false);
  while (performance.now() < deadline) {
    await sleep(IDLE_WINDOW_MS);
    const current = await server.probe(false);
    const share =
      (current.cpuMicros - previous.cpuMicros) / (IDLE_WINDOW_MS * 1000);
    if (share < IDLE_CPU_SHARE) {
      return;
    }
    previous = current;
  }
}

/** Deals room ids to `parts` generators in turn. */
function splitRooms(roomIds: string[], parts: number): string[][] {
  const shares: string[][] = Array.from({ length: parts }, () => []);
  roomIds.forEach((roomId, index) => shares[index % parts].push(roomId));
  return shares;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
