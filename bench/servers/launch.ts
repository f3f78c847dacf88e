import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FramingName } from '../load/framing.js';
import type { ServerUnderTest } from '../scenarios.js';
import type { ProbeReading } from './probe.js';

export type ServerId = 'relay' | 'relay-redis' | 'raw-ws' | 'socket.io';

export const SERVER_LABELS: Record<ServerId, string> = {
  relay: 'This relay (memory store)',
  'relay-redis': 'This relay (Redis store)',
  'raw-ws': 'Raw ws relay',
  'socket.io': 'Socket.IO 4',
};

/** Time a process may take to listen or to exit, in ms. */
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const PROBE_TIMEOUT_MS = 10_000;
/** Bytes of a server's output kept to explain a failure. */
const OUTPUT_TAIL_BYTES = 4_000;

export interface LaunchContext {
  /** Directory of the compiled harness (`bench/build`). */
  buildDir: string;
  /** Directory of the relay's production build to run (`main.js`). */
  relayDir: string;
  /** `taskset -c` CPU list for servers; `undefined` runs them unpinned. */
  serverCpus?: string;
  /** Variables added to the relay's environment. */
  relayEnvironment?: Record<string, string>;
  /** Directory for `node --cpu-prof` profiles of the servers; unset writes none. */
  cpuProfileDir?: string;
}

export interface ServerProcess extends ServerUnderTest {
  id: ServerId;
  pid: number;
  /** Stops the process: SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/**
 * Settings of the relay for the benchmark: production mode, warnings only,
 * the heartbeat pushed past the runs, and every limit still active but set
 * above what the benchmark sends.
 */
export function relayBenchEnvironment(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    HEARTBEAT_INTERVAL_MS: '600000',
    ROOM_MAX_EVENTS: '1000000',
    AUTH_MODE: 'none',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    MAX_CONNECTIONS_PER_IP: '20000',
    MAX_CONNECTIONS: '20000',
    MAX_ROOMS_CREATED_PER_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  };
}

/** Prefixes a command with `taskset -c CPUS` when CPUs are given. */
export function pinned(command: string[], cpus: string | undefined): string[] {
  return cpus === undefined ? command : ['taskset', '-c', cpus, ...command];
}

/** Tells whether `taskset` can pin processes here and at least two CPUs exist. */
export function canPin(cpuCount: number): boolean {
  if (process.platform !== 'linux' || cpuCount < 2) {
    return false;
  }
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) {
    throw new Error('Could not find a free port on 127.0.0.1');
  }
  return address.port;
}

/** Starts one server under test in its own process and waits until it listens. */
export async function launchServer(
  id: ServerId,
  context: LaunchContext,
  extraEnvironment: Record<string, string> = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const probe = pathToFileURL(
    join(context.buildDir, 'servers', 'probe.js'),
  ).href;
  const nodeArgs = ['--expose-gc', '--import', probe];
  if (context.cpuProfileDir) {
    nodeArgs.push(
      '--cpu-prof',
      '--cpu-prof-interval=250',
      `--cpu-prof-dir=${context.cpuProfileDir}`,
    );
  }
  let script: string[];
  let environment: Record<string, string | undefined> = { ...process.env };
  let framing: FramingName = 'json';

  if (id === 'relay' || id === 'relay-redis') {
    script = [join(context.relayDir, 'main.js')];
    environment = {
      ...environment,
      ...relayBenchEnvironment(),
      ...context.relayEnvironment,
      ...extraEnvironment,
      PORT: String(port),
    };
  } else {
    script = [join(context.buildDir, 'servers', 'serve.js'), id, String(port)];
    framing = id === 'socket.io' ? 'socket.io' : 'json';
  }

  const [file, ...args] = pinned(
    [process.execPath, ...nodeArgs, ...script],
    context.serverCpus,
  );
  const child = spawn(file, args, {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = captureOutput(child);
  try {
    await waitForPort(port, child, output);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }

  return {
    id,
    pid: child.pid ?? -1,
    port,
    framing,
    probe: (collectGarbage) => probeProcess(child, collectGarbage),
    stop: () => stopProcess(child),
  };
}

/** A Redis server of the benchmark's own, on a free loopback port. */
export interface RedisProcess {
  url: string;
  pid: number;
  command(...args: string[]): Promise<string>;
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `redis-server` without persistence; `undefined` when it is not installed. */
export async function launchRedis(
  cpus: string | undefined,
): Promise<RedisProcess | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    return undefined;
  }
  const port = await freePort();
  const [file, ...args] = pinned(
    [
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    cpus,
  );
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  try {
    await waitForPort(port, child, output);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    command: (...commandArgs) => redisCommand(port, commandArgs),
    cpuMicros: () => Promise.resolve(processCpuMicros(child.pid ?? -1)),
    stop: () => stopProcess(child),
  };
}

/**
 * CPU time of any process from `/proc/PID/stat` (user + system), in
 * microseconds, at the kernel's clock-tick resolution (usually 10 ms).
 */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces, start at ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / 100;
}

/** Sends one command in RESP and returns the raw reply. */
function redisCommand(port: number, args: string[]): Promise<string> {
  const request =
    `*${args.length}\r\n` +
    args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(PROBE_TIMEOUT_MS, () =>
      socket.destroy(
        new Error(`Redis did not reply within ${PROBE_TIMEOUT_MS} ms`),
      ),
    );
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolve(reply.trim());
      }
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

function captureOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `Process exited (code ${child.exitCode}) before listening on ${port}: ${output().trim()}`,
      );
    }
    if (await canConnect(port)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `Process did not listen on ${port} within ${START_TIMEOUT_MS} ms: ${output().trim()}`,
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function probeProcess(
  child: ChildProcess,
  collectGarbage: boolean,
): Promise<ProbeReading> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(
        new Error(
          `Server ${child.pid} did not reply to the probe within ${PROBE_TIMEOUT_MS} ms`,
        ),
      );
    }, PROBE_TIMEOUT_MS);
    const onMessage = (message: ProbeReading) => {
      if (message?.type !== 'probe') {
        return;
      }
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'probe', collectGarbage });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
