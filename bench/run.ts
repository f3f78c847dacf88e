import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GeneratorClient } from './load/generator.js';
import { RemoteGenerator } from './load/remote-generator.js';
import { FULL_PROFILE, QUICK_PROFILE, type BenchProfile } from './profiles.js';
import { renderReport } from './report/render.js';
import type {
  BenchResults,
  Repetition,
  ServerAvailability,
  ServerRun,
} from './results-model.js';
import {
  runConnectionScenario,
  runLoadScenario,
  sleep,
  type LoadSettings,
} from './scenarios.js';
import {
  SERVER_LABELS,
  canPin,
  launchRedis,
  launchServer,
  pinned,
  type LaunchContext,
  type RedisProcess,
  type ServerId,
  type ServerProcess,
} from './servers/launch.js';

const HELP = `Usage: npm run bench -- [--quick] [--servers=LIST] [--repetitions=N] [--no-pin] [--no-render]

Runs the relay, a raw ws relay and Socket.IO 4 side by side on 127.0.0.1
and writes bench/results/DATE-MODE.json and docs/benchmarks.md.

  --quick            short steps, 2,000 connections, one repetition (under two minutes)
  --servers=LIST     comma-separated subset of relay,relay-redis,raw-ws,socket.io
  --repetitions=N    repetitions, each with the server order rotated (default 3, quick 1)
  --no-pin           do not pin servers and generators to CPUs with taskset
  --no-render        write the JSON results only, leave docs/benchmarks.md alone
  --load-only        skip the connection scenario
  --rates=LIST       comma-separated offered rates of the latency scenario, events/s
  --duration=MS      duration of each latency step, in ms
  --no-throughput    skip the throughput steps
  --relay-dir=PATH   run this build of the relay (a copy of dist/) instead of a fresh snapshot
  --cpu-prof         write a V8 CPU profile of each server process to bench/results/profiles/
`;

const ALL_SERVERS: ServerId[] = ['relay', 'relay-redis', 'raw-ws', 'socket.io'];

interface Options {
  profile: BenchProfile;
  servers: ServerId[];
  pin: boolean;
  render: boolean;
  cpuProfile: boolean;
  loadOnly: boolean;
  relayDir?: string;
}

const buildDir = dirname(fileURLToPath(import.meta.url));
const repositoryDir = resolve(buildDir, '..', '..');

/** Every process this run started and has not stopped yet, for cleanup on errors and signals. */
const running = new Set<{ stop(): Promise<void> }>();

/** Set once a signal arrived: nothing new may start afterwards. */
let stopping = false;

async function track<T extends { stop(): Promise<void> }>(
  start: Promise<T>,
): Promise<T> {
  const started = await start;
  if (stopping) {
    await started.stop();
    throw new Error('The run is stopping');
  }
  running.add(started);
  return started;
}

async function stopTracked(process: { stop(): Promise<void> }): Promise<void> {
  running.delete(process);
  await process.stop();
}

async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((process) => stopTracked(process)));
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`Invalid ${option} "${text}": expected a positive integer`);
  }
  return value;
}

function parseOptions(argv: string[]): Options {
  let profile = FULL_PROFILE;
  let servers = ALL_SERVERS;
  let repetitions: number | undefined;
  let pin = true;
  let render = true;
  let cpuProfile = false;
  let loadOnly = false;
  const load: Partial<LoadSettings> = {};
  let relayDir: string | undefined;
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2);
    if (name === '--quick') {
      profile = QUICK_PROFILE;
    } else if (name === '--servers' && value) {
      servers = value.split(',').map((id) => {
        if (!ALL_SERVERS.includes(id as ServerId)) {
          throw new Error(
            `Unknown server "${id}": expected one of ${ALL_SERVERS.join(', ')}`,
          );
        }
        return id as ServerId;
      });
    } else if (name === '--repetitions' && value) {
      repetitions = Number(value);
      if (!Number.isInteger(repetitions) || repetitions < 1) {
        throw new Error(
          `Invalid --repetitions "${value}": expected a positive integer`,
        );
      }
    } else if (name === '--no-pin') {
      pin = false;
    } else if (name === '--no-render') {
      render = false;
    } else if (name === '--cpu-prof') {
      cpuProfile = true;
    } else if (name === '--load-only') {
      loadOnly = true;
    } else if (name === '--rates' && value) {
      load.latencyRates = value
        .split(',')
        .map((rate) => positiveInteger('--rates', rate));
    } else if (name === '--duration' && value) {
      load.latencyDurationMs = positiveInteger('--duration', value);
    } else if (name === '--relay-dir' && value) {
      relayDir = resolve(value);
    } else if (name === '--no-throughput') {
      load.throughputRates = [];
    } else if (name === '--help' || name === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else {
      throw new Error(`Unknown option "${arg}"\n\n${HELP}`);
    }
  }
  return {
    profile: {
      ...profile,
      repetitions: repetitions ?? profile.repetitions,
      load: { ...profile.load, ...load },
    },
    servers,
    pin,
    render,
    cpuProfile,
    loadOnly,
    relayDir,
  };
}

function log(message: string): void {
  process.stdout.write(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`,
  );
}

/**
 * Copies the relay's production build (`nest build` output in dist/) so a
 * rebuild in the working tree during the run cannot change the code under test.
 */
function snapshotRelayBuild(): string {
  const source = join(repositoryDir, 'dist');
  if (!existsSync(join(source, 'main.js'))) {
    throw new Error(
      'dist/main.js is missing: run `npx nest build` first (npm run bench does)',
    );
  }
  const target = join(buildDir, 'relay-server');
  rmSync(target, { recursive: true, force: true });
  // Declaration files would be picked up by the project's tsc and eslint,
  // which include bench/.
  cpSync(source, target, {
    recursive: true,
    filter: (path) => !path.endsWith('.d.ts'),
  });
  return target;
}

/**
 * Starts the relay with ROOM_STORE=redis and checks that it uses Redis: a join
 * must leave keys in the benchmark's own Redis. Returns the reason when not.
 */
async function probeRedisStore(
  context: LaunchContext,
  redis: RedisProcess,
): Promise<string | undefined> {
  let server: ServerProcess | undefined;
  try {
    server = await track(
      launchServer('relay-redis', context, {
        ROOM_STORE: 'redis',
        REDIS_URL: redis.url,
      }),
    );
    const generator = new (await import('./load/generator.js')).LoadGenerator();
    try {
      await generator.setup({
        port: server.port,
        framing: 'json',
        roomIds: ['redis-probe'],
        connectRate: 100,
        timeoutMs: 5_000,
      });
    } finally {
      await generator.close();
    }
    const keys = await redis.command('DBSIZE');
    if (keys === ':0') {
      return 'the relay accepted ROOM_STORE=redis but wrote nothing to Redis (memory store still in use)';
    }
    return undefined;
  } catch (error) {
    return `the relay did not start with ROOM_STORE=redis: ${describe(error)}`;
  } finally {
    if (server) {
      await stopTracked(server);
    }
    await redis.command('FLUSHALL').catch(() => undefined);
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

function createGenerators(
  count: number,
  cpus: string | undefined,
): RemoteGenerator[] {
  const script = join(buildDir, 'load', 'generator-process.js');
  return Array.from(
    { length: count },
    () => new RemoteGenerator(pinned([process.execPath, script], cpus)),
  );
}

type Session = (
  generatorCount: number,
  body: (server: ServerProcess, generators: GeneratorClient[]) => Promise<void>,
) => Promise<void>;

async function runConnections(
  id: ServerId,
  run: ServerRun,
  profile: BenchProfile,
  session: Session,
): Promise<void> {
  log(
    `${id}: connection scenario (${profile.connections.connections} connections)`,
  );
  try {
    await session(profile.connectionGenerators, async (server, generators) => {
      run.connections = await runConnectionScenario(
        server,
        generators,
        profile.connections,
      );
    });
    const c = run.connections;
    log(
      `${id}: ${c?.joined}/${c?.requested} joined, ${((c?.rssPerConnectionBytes ?? 0) / 1024).toFixed(1)} KiB RSS per connection, ${c?.roomsRelaying}/${c?.rooms} rooms relaying`,
    );
  } catch (error) {
    run.connectionsError = describe(error);
    log(`${id}: connection scenario failed: ${run.connectionsError}`);
  }
}

async function runServer(
  id: ServerId,
  options: Options,
  context: LaunchContext,
  redis: RedisProcess | undefined,
  generatorCpus: string | undefined,
): Promise<ServerRun> {
  const run: ServerRun = {};
  const environment: Record<string, string> =
    id === 'relay-redis' && redis
      ? { ROOM_STORE: 'redis', REDIS_URL: redis.url }
      : {};
  const { profile } = options;

  const session: Session = async (generatorCount, body) => {
    await redis?.command('FLUSHALL');
    const server = await track(launchServer(id, context, environment));
    if (id === 'relay-redis' && redis) {
      server.companionCpuMicros = () => redis.cpuMicros();
    }
    const generators = createGenerators(generatorCount, generatorCpus);
    if (stopping) {
      await stopTracked(server);
      await Promise.allSettled(generators.map((generator) => generator.stop()));
      throw new Error('The run is stopping');
    }
    generators.forEach((generator) => running.add(generator));
    try {
      await body(server, generators);
    } finally {
      // The server goes first, so the sockets close from its side.
      await stopTracked(server);
      await Promise.allSettled(
        generators.map((generator) => stopTracked(generator)),
      );
    }
  };

  if (!options.loadOnly) {
    await runConnections(id, run, profile, session);
  }

  log(`${id}: latency and throughput scenarios`);
  try {
    await session(1, async (server, [generator]) => {
      run.load = await runLoadScenario(server, generator, profile.load);
    });
    for (const step of run.load?.latency ?? []) {
      log(
        `${id}: ${step.offeredRate}/s p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms, lost ${step.lost}, ${step.serverCpuMicrosPerEvent} µs CPU/event`,
      );
    }
    log(
      `${id}: sustained ${run.load?.throughput.sustainedRate ?? 'none'}/s; stopped at ${run.load?.throughput.stoppedBecause}`,
    );
  } catch (error) {
    run.loadError = describe(error);
    log(`${id}: load scenario failed: ${run.loadError}`);
  }
  return run;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const loadAverageStart = loadavg()[0];
  const cpuCount = cpus().length;
  const pin = options.pin && canPin(cpuCount);
  const serverCpus = pin ? '0' : undefined;
  const generatorCpus = pin ? String(cpuCount - 1) : undefined;

  const relayDir = options.relayDir ?? snapshotRelayBuild();
  const context: LaunchContext = { buildDir, relayDir, serverCpus };
  if (options.cpuProfile) {
    context.cpuProfileDir = join(repositoryDir, 'bench', 'results', 'profiles');
    mkdirSync(context.cpuProfileDir, { recursive: true });
  }
  log(
    `${options.profile.name} run, ${options.profile.repetitions} repetition(s), ${pin ? `servers on CPU ${serverCpus}, generators on CPU ${generatorCpus}` : 'unpinned'}`,
  );

  const availability: ServerAvailability[] = [];
  let redis: RedisProcess | undefined;
  for (const id of options.servers) {
    const entry: ServerAvailability = {
      id,
      label: SERVER_LABELS[id],
      available: true,
    };
    if (id === 'relay-redis') {
      redis = await launchRedis(serverCpus).then((started) => {
        if (started) {
          running.add(started);
        }
        return started;
      });
      entry.reason = redis
        ? await probeRedisStore(context, redis)
        : 'redis-server is not installed';
      entry.available = entry.reason === undefined;
      log(
        `relay-redis: ${entry.available ? 'available' : `not available: ${entry.reason}`}`,
      );
    }
    availability.push(entry);
  }
  const servers = availability
    .filter((entry) => entry.available)
    .map((entry) => entry.id);

  const repetitions: Repetition[] = [];
  for (let index = 0; index < options.profile.repetitions; index++) {
    const order = servers.map((_, i) => servers[(i + index) % servers.length]);
    const repetition: Repetition = { index, order, runs: {} };
    log(`repetition ${index + 1}: ${order.join(', ')}`);
    for (const id of order) {
      repetition.runs[id] = await runServer(
        id,
        options,
        context,
        redis,
        generatorCpus,
      );
      await sleep(1_000);
    }
    repetitions.push(repetition);
  }
  await stopAll();

  const results: BenchResults = {
    formatVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpuCount,
      memoryBytes: totalmem(),
      os: `${type()} ${release()}`,
      loadAverageStart,
      loadAverageEnd: loadavg()[0],
    },
    node: process.version,
    ...(pin && serverCpus && generatorCpus
      ? { pinning: { servers: serverCpus, generators: generatorCpus } }
      : {}),
    profile: options.profile,
    servers: availability,
    repetitions,
  };

  const resultsDir = join(repositoryDir, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const resultsPath = join(resultsDir, `${stamp}-${options.profile.name}.json`);
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to ${resultsPath}`);

  if (options.render) {
    const written = renderReport(results, {
      documentPath: join(repositoryDir, 'docs', 'benchmarks.md'),
      chartPath: join(resultsDir, 'latency-vs-rate.svg'),
      resultsFile: `bench/results/${stamp}-${options.profile.name}.json`,
    });
    log(`report rendered into ${written.join(' and ')}`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    log(`${signal} received: stopping every server and generator`);
    void stopAll().then(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  log(
    `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await stopAll();
  process.exit(1);
});
