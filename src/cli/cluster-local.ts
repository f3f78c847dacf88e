/**
 * Starts several relay instances on consecutive ports, all sharing one
 * Redis, so that a reader can try the Redis room store on one machine:
 *
 *     npm run cluster:local -- --instances 3 --port 8080
 *
 * Each instance is `dist/main.js` in a child process with ROOM_STORE=redis
 * and its own INSTANCE_ID; other settings come from the environment and
 * `.env`. Ctrl+C stops every instance with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const USAGE = `Usage: npm run cluster:local -- [options]

Options:
  --instances N   instances to start (default 3, at most 16)
  --port PORT     port of the first instance; the others take the next ones
                  (default PORT or 8080)
  --redis URL     Redis shared by the instances (default REDIS_URL or
                  redis://127.0.0.1:6379)
  --prefix TEXT   key prefix in Redis (default REDIS_KEY_PREFIX or relay:)
  --help          show this text`;

const MAX_INSTANCES = 16;

interface ClusterRequest {
  instances: number;
  firstPort: number;
  redisUrl: string;
  keyPrefix: string;
}

function parseRequest(argv: string[]): ClusterRequest {
  const { values } = parseArgs({
    args: argv,
    options: {
      instances: { type: 'string', default: '3' },
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      redis: {
        type: 'string',
        default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      },
      prefix: {
        type: 'string',
        default: process.env.REDIS_KEY_PREFIX ?? 'relay:',
      },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }

  const instances = Number(values.instances);
  if (
    !Number.isInteger(instances) ||
    instances < 1 ||
    instances > MAX_INSTANCES
  ) {
    throw new Error(
      `--instances "${values.instances}" is invalid: give a whole number from 1 to ${MAX_INSTANCES}`,
    );
  }
  const firstPort = Number(values.port);
  if (
    !Number.isInteger(firstPort) ||
    firstPort < 1 ||
    firstPort + instances - 1 > 65535
  ) {
    throw new Error(
      `--port "${values.port}" is invalid: give a port from 1 to ${65536 - instances}`,
    );
  }
  return {
    instances,
    firstPort,
    redisUrl: values.redis,
    keyPrefix: values.prefix,
  };
}

/** @throws Error naming the URL when Redis does not reply to `PING`. */
async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `Redis at ${url} is unreachable (${error instanceof Error ? error.message : String(error)}): start redis-server or pass --redis`,
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
}

/** Copies a child's output to ours, each line prefixed with the instance id. */
function forwardOutput(child: ChildProcess, instanceId: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        process.stdout.write(`[${instanceId}] ${line}\n`);
      }
    });
  }
}

function startInstance(
  request: ClusterRequest,
  index: number,
): { instanceId: string; child: ChildProcess } {
  const instanceId = `local-${index + 1}`;
  const port = request.firstPort + index;
  const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      ROOM_STORE: 'redis',
      REDIS_URL: request.redisUrl,
      REDIS_KEY_PREFIX: request.keyPrefix,
      INSTANCE_ID: instanceId,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  forwardOutput(child, instanceId);
  child.once('exit', (code, signal) => {
    console.log(
      `[cluster] ${instanceId} on port ${port} exited (${signal ?? `code ${code}`})`,
    );
  });
  console.log(
    `[cluster] ${instanceId}: ws://127.0.0.1:${port}/ws, stats at http://127.0.0.1:${port}/stats`,
  );
  return { instanceId, child };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  const running = children.filter(
    (child) => child.exitCode === null && child.signalCode === null,
  );
  await Promise.all(
    running.map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

async function main(): Promise<void> {
  const request = parseRequest(process.argv.slice(2));
  await checkRedis(request.redisUrl);
  console.log(
    `[cluster] starting ${request.instances} instance(s) against ${request.redisUrl} with key prefix "${request.keyPrefix}"`,
  );

  const children = Array.from({ length: request.instances }, (_, index) =>
    startInstance(request, index),
  ).map(({ child }) => child);

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        return;
      }
      stopping = true;
      console.log(`[cluster] ${signal} received: stopping every instance`);
      stopAll(children)
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          console.error('[cluster] failed to stop the instances', error);
          process.exit(1);
        });
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
