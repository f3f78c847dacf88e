import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadGenerator } from '../../bench/load/generator.js';
import type { FramingName } from '../../bench/load/framing.js';
import { QUICK_PROFILE, type BenchProfile } from '../../bench/profiles.js';
import { renderReport } from '../../bench/report/render.js';
import type { BenchResults, ServerRun } from '../../bench/results-model.js';
import {
  runConnectionScenario,
  runLoadScenario,
  type ServerUnderTest,
} from '../../bench/scenarios.js';
import type { ServerId } from '../../bench/servers/launch.js';
import type { ProbeReading } from '../../bench/servers/probe.js';
import {
  startRawWsRelay,
  type RunningServer,
} from '../../bench/servers/raw-ws-relay.js';
import { startSocketIoRelay } from '../../bench/servers/socketio-relay.js';
import { startTestServer } from '../support/test-server.js';

/** A tiny version of the quick profile: a few rooms, half-second steps. */
const SMOKE_PROFILE: BenchProfile = {
  ...QUICK_PROFILE,
  connections: {
    connections: 20,
    connectRate: 200,
    holdMs: 50,
    timeoutMs: 5_000,
  },
  connectionGenerators: 2,
  load: {
    ...QUICK_PROFILE.load,
    rooms: 10,
    connectRate: 200,
    warmupRate: 200,
    warmupMs: 200,
    latencyRates: [200],
    latencyDurationMs: 500,
    throughputRates: [400],
    throughputDurationMs: 500,
    drainMs: 2_000,
    settleTimeoutMs: 1_000,
    // Loaded CI machines stall for a while; the smoke run checks delivery, not speed.
    maxP99Ms: 5_000,
  },
};

/** Reads this process, which hosts the servers during the smoke run. */
function probeThisProcess(): Promise<ProbeReading> {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return Promise.resolve({
    type: 'probe',
    cpuMicros: cpu.user + cpu.system,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
  });
}

async function runBoth(port: number, framing: FramingName): Promise<ServerRun> {
  const server: ServerUnderTest = { port, framing, probe: probeThisProcess };
  const generators = [new LoadGenerator(), new LoadGenerator()];
  const loadGenerator = new LoadGenerator();
  try {
    const connections = await runConnectionScenario(
      server,
      generators,
      SMOKE_PROFILE.connections,
    );
    const load = await runLoadScenario(
      server,
      loadGenerator,
      SMOKE_PROFILE.load,
    );
    return { connections, load };
  } finally {
    await Promise.all(
      [...generators, loadGenerator].map((generator) => generator.close()),
    );
  }
}

function expectCompleteRun(run: ServerRun): void {
  expect(run.connections?.joined).toBe(20);
  expect(run.connections?.roomsRelaying).toBe(10);
  const steps = [
    ...(run.load?.latency ?? []),
    ...(run.load?.throughput.steps ?? []),
  ];
  expect(steps).toHaveLength(2);
  for (const step of steps) {
    expect(step.errors).toBe(0);
    expect(step.lost).toBe(0);
    expect(step.latency.count).toBe(step.sent);
  }
  expect(run.load?.throughput.sustainedOfferedRate).toBe(400);
}

describe('benchmark harness smoke run', () => {
  const runs: Partial<Record<ServerId, ServerRun>> = {};
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('measures the relay', async () => {
    const relay = await startTestServer({
      ROOM_MAX_EVENTS: '100000',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
    });
    servers.push({ port: relay.port, close: () => relay.close() });
    runs.relay = await runBoth(relay.port, 'json');
    expectCompleteRun(runs.relay);
  });

  it('measures the raw ws relay', async () => {
    const raw = await startRawWsRelay(0);
    servers.push(raw);
    runs['raw-ws'] = await runBoth(raw.port, 'json');
    expectCompleteRun(runs['raw-ws']);
  });

  it('measures Socket.IO', async () => {
    const socketIo = await startSocketIoRelay(0);
    servers.push(socketIo);
    runs['socket.io'] = await runBoth(socketIo.port, 'socket.io');
    expectCompleteRun(runs['socket.io']);
  });

  it('renders targets, tables and chart', () => {
    const directory = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    try {
      const results: BenchResults = {
        formatVersion: 1,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        command: 'smoke test',
        machine: {
          cpuModel: 'test',
          cpus: 1,
          memoryBytes: 1,
          os: 'test',
          loadAverageStart: 0,
          loadAverageEnd: 0,
        },
        node: process.version,
        profile: SMOKE_PROFILE,
        servers: [
          { id: 'relay', label: 'This relay', available: true },
          {
            id: 'relay-redis',
            label: 'Redis',
            available: false,
            reason: 'not probed',
          },
          { id: 'raw-ws', label: 'Raw ws', available: true },
          { id: 'socket.io', label: 'Socket.IO', available: true },
        ],
        repetitions: [
          { index: 0, order: ['relay', 'raw-ws', 'socket.io'], runs },
        ],
      };
      const documentPath = join(directory, 'benchmarks.md');
      const chartPath = join(directory, 'chart.svg');
      renderReport(results, {
        documentPath,
        chartPath,
        resultsFile: 'smoke.json',
      });

      const document = readFileSync(documentPath, 'utf8');
      expect(document).toContain('### Targets');
      expect(document).toContain('| Raw ws |');
      expect(document).toContain('Redis: not available (not probed)');
      expect(document).toContain('](chart.svg)');
      const chart = readFileSync(chartPath, 'utf8');
      expect(chart.startsWith('<svg')).toBe(true);
      expect(chart.match(/<polyline/g)).toHaveLength(6);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
