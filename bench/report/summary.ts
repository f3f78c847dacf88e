import type { BenchResults, ServerRun } from '../results-model.js';
import type { LoadStepResult } from '../scenarios.js';
import type { ServerId } from '../servers/launch.js';
import { median } from '../stats.js';

/** Medians over the repetitions of one offered rate. */
export interface RateSummary {
  rate: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
  lost?: number;
  cpuMicrosPerEvent?: number;
  serverCpuShare?: number;
  sendLagP99Ms?: number;
  companionCpuMicrosPerEvent?: number;
}

export interface ServerSummary {
  id: ServerId;
  label: string;
  runs: number;
  latency: RateSummary[];
  /** Latency and throughput steps together, for the chart. */
  curve: RateSummary[];
  /** 0 when even the lowest step failed. */
  sustainedRate?: number;
  stoppedBecause: string[];
  rssPerConnectionBytes?: number;
  heapPerConnectionBytes?: number;
  connectP50Ms?: number;
  connectP99Ms?: number;
  connectionsRequested?: number;
  /** Minimum over the repetitions of the connections joined. */
  connectionsJoined?: number;
  rooms?: number;
  /** Minimum over the repetitions of the rooms relaying after the hold. */
  roomsRelaying?: number;
  failures: string[];
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** `undefined` when the run did not measure it. */
  met?: boolean;
}

export interface Summary {
  servers: ServerSummary[];
  targets: TargetCheck[];
}

/** Rate at which CPU per event and latency are compared with the targets. */
export const TARGET_RATE = 10_000;
/** Connections that one process must hold to meet the connection target. */
export const TARGET_CONNECTIONS = 19_000;

function summarizeSteps(steps: LoadStepResult[][]): RateSummary[] {
  const byRate = new Map<number, LoadStepResult[]>();
  for (const step of steps.flat()) {
    const list = byRate.get(step.offeredRate) ?? [];
    list.push(step);
    byRate.set(step.offeredRate, list);
  }
  return [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([rate, list]) => ({
      rate,
      p50: median(list.map((step) => step.latency.p50)),
      p90: median(list.map((step) => step.latency.p90)),
      p99: median(list.map((step) => step.latency.p99)),
      p999: median(list.map((step) => step.latency.p999)),
      max: median(list.map((step) => step.latency.max)),
      lost: median(list.map((step) => step.lost)),
      cpuMicrosPerEvent: median(
        list.map((step) => step.serverCpuMicrosPerEvent),
      ),
      serverCpuShare: median(list.map((step) => step.serverCpuShare)),
      sendLagP99Ms: median(list.map((step) => step.sendLagP99Ms)),
      companionCpuMicrosPerEvent: median(
        list.map((step) => step.companionCpuMicrosPerEvent),
      ),
    }));
}

function summarizeServer(
  id: ServerId,
  label: string,
  runs: ServerRun[],
): ServerSummary {
  const connections = runs.flatMap((run) =>
    run.connections ? [run.connections] : [],
  );
  const loads = runs.flatMap((run) => (run.load ? [run.load] : []));
  const minimum = (values: number[]) =>
    values.length > 0 ? Math.min(...values) : undefined;
  return {
    id,
    label,
    runs: runs.length,
    latency: summarizeSteps(loads.map((load) => load.latency)),
    curve: summarizeSteps(
      loads.map((load) => [...load.latency, ...load.throughput.steps]),
    ),
    // A repetition in which even the first step failed sustained 0, not an
    // unknown rate, so it counts in the median.
    sustainedRate: median(
      loads.map((load) =>
        load.throughput.steps.length > 0
          ? (load.throughput.sustainedRate ?? 0)
          : undefined,
      ),
    ),
    stoppedBecause: loads.map((load) => load.throughput.stoppedBecause),
    rssPerConnectionBytes: median(
      connections.map((c) => c.rssPerConnectionBytes),
    ),
    heapPerConnectionBytes: median(
      connections.map((c) => c.heapPerConnectionBytes),
    ),
    connectP50Ms: median(connections.map((c) => c.connectTime.p50)),
    connectP99Ms: median(connections.map((c) => c.connectTime.p99)),
    connectionsRequested: connections[0]?.requested,
    connectionsJoined: minimum(connections.map((c) => c.joined)),
    rooms: connections[0]?.rooms,
    roomsRelaying: minimum(connections.map((c) => c.roomsRelaying)),
    failures: runs.flatMap((run) =>
      [run.connectionsError, run.loadError].filter(
        (error): error is string => error !== undefined,
      ),
    ),
  };
}

export function atRate(
  server: ServerSummary | undefined,
  rate: number,
): RateSummary | undefined {
  return server?.latency.find((entry) => entry.rate === rate);
}

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined ? 'n/a' : value.toFixed(digits);
const perSecond = (value: number | undefined) =>
  value === undefined ? 'n/a' : `${value.toFixed(0)}/s`;
const kib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(2)} KiB`;

function checkTargets(servers: ServerSummary[]): TargetCheck[] {
  const find = (id: ServerId) => servers.find((server) => server.id === id);
  const relay = find('relay');
  const raw = find('raw-ws');
  const socketIo = find('socket.io');
  const both = (a?: number, b?: number) => a !== undefined && b !== undefined;

  const cpuRelay = atRate(relay, TARGET_RATE)?.cpuMicrosPerEvent;
  const cpuRaw = atRate(raw, TARGET_RATE)?.cpuMicrosPerEvent;
  const cpuSocketIo = atRate(socketIo, TARGET_RATE)?.cpuMicrosPerEvent;
  const rateRelay = relay?.sustainedRate;
  const rateRaw = raw?.sustainedRate;
  const rateSocketIo = socketIo?.sustainedRate;
  const latency = atRate(relay, TARGET_RATE);
  const memRelay = relay?.rssPerConnectionBytes;
  const memRaw = raw?.rssPerConnectionBytes;
  const memSocketIo = socketIo?.rssPerConnectionBytes;

  const checks: TargetCheck[] = [
    {
      name: `CPU per relayed event at ${TARGET_RATE / 1000}k/s`,
      target: '≤ 1.6 × raw ws, and < Socket.IO',
      measured: `${fixed(cpuRelay)} µs vs raw ws ${fixed(cpuRaw)} µs (${fixed(both(cpuRelay, cpuRaw) ? cpuRelay! / cpuRaw! : undefined)}×) and Socket.IO ${fixed(cpuSocketIo)} µs`,
      met:
        both(cpuRelay, cpuRaw) && both(cpuRelay, cpuSocketIo)
          ? cpuRelay! <= 1.6 * cpuRaw! && cpuRelay! < cpuSocketIo!
          : undefined,
    },
    {
      name: 'Sustained relay rate',
      target: '≥ 0.6 × raw ws, and > Socket.IO',
      measured: `${perSecond(rateRelay)} vs raw ws ${perSecond(rateRaw)} (${fixed(both(rateRelay, rateRaw) ? rateRelay! / rateRaw! : undefined)}×) and Socket.IO ${perSecond(rateSocketIo)}`,
      met:
        both(rateRelay, rateRaw) && both(rateRelay, rateSocketIo)
          ? rateRelay! >= 0.6 * rateRaw! && rateRelay! > rateSocketIo!
          : undefined,
    },
    {
      name: `Latency at ${TARGET_RATE / 1000}k events/s`,
      target: 'p50 < 1 ms and p99 < 5 ms',
      measured: `p50 ${fixed(latency?.p50, 3)} ms, p99 ${fixed(latency?.p99, 3)} ms`,
      met:
        latency?.p50 !== undefined && latency.p99 !== undefined
          ? latency.p50 < 1 && latency.p99 < 5
          : undefined,
    },
    {
      name: 'Memory per idle connection (RSS)',
      target: '≤ raw ws + 3 KiB, and < Socket.IO',
      measured: `${kib(memRelay)} vs raw ws ${kib(memRaw)} and Socket.IO ${kib(memSocketIo)}`,
      met:
        both(memRelay, memRaw) && both(memRelay, memSocketIo)
          ? memRelay! <= memRaw! + 3 * 1024 && memRelay! < memSocketIo!
          : undefined,
    },
  ];

  const requested = relay?.connectionsRequested;
  const held = relay?.connectionsJoined;
  checks.push({
    name: `${TARGET_CONNECTIONS.toLocaleString('en-US')} connections in one process`,
    target: 'all joined, no errors, every room relays',
    measured:
      requested === undefined
        ? 'not measured'
        : `${held} of ${requested} joined, ${relay?.roomsRelaying} of ${relay?.rooms} rooms relayed`,
    met:
      requested === undefined || requested < TARGET_CONNECTIONS
        ? undefined
        : held === requested && relay?.roomsRelaying === relay?.rooms,
  });
  return checks;
}

/** Medians over the repetitions of every server, and the targets checked against them. */
export function summarize(results: BenchResults): Summary {
  const servers = results.servers
    .filter((server) => server.available)
    .map((server) =>
      summarizeServer(
        server.id,
        server.label,
        results.repetitions.flatMap((repetition) => {
          const run = repetition.runs[server.id];
          return run ? [run] : [];
        }),
      ),
    );
  return { servers, targets: checkTargets(servers) };
}
