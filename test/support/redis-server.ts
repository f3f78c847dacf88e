import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server-process.js';
import { waitFor } from './wait-for.js';

/** Redis the tests share; `.ci/run` starts one there. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Returns a key prefix no other test run uses, so runs can share one Redis. */
export function uniqueKeyPrefix(label = 'test'): string {
  return `relay-${label}-${process.pid}-${randomUUID().slice(0, 8)}:`;
}

/** Returns why Redis at `url` cannot be used, or `undefined` when it replies to `PING`. */
export async function redisUnavailableReason(
  url = TEST_REDIS_URL,
): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} is unreachable (${error instanceof Error ? error.message : String(error)}); start one or set REDIS_URL`;
  } finally {
    client.disconnect();
  }
}

/** Returns why this machine cannot start a `redis-server`, or `undefined` when it can. */
export function redisServerUnavailableReason(): Promise<string | undefined> {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return Promise.resolve(
    probe.status === 0
      ? undefined
      : 'redis-server is not installed (apt-get install redis-server)',
  );
}

/** Deletes every key under a prefix; tests call it when they finish. */
export async function deleteKeys(
  prefix: string,
  url = TEST_REDIS_URL,
): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(
        cursor,
        'MATCH',
        `${prefix}*`,
        'COUNT',
        1_000,
      );
      cursor = next;
      if (keys.length > 0) {
        await client.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/**
 * A `redis-server` process of the test's own, on a free loopback port, with
 * an append-only file so that a restart keeps the data.
 */
export class OwnRedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly directory: string,
    private readonly appendOnly: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** @param appendOnly false for a server whose data may go with it, which writes faster. */
  static async start(appendOnly = true): Promise<OwnRedisServer> {
    const directory = await mkdtemp(join(tmpdir(), 'relay-redis-'));
    const server = new OwnRedisServer(await freePort(), directory, appendOnly);
    await server.restart();
    return server;
  }

  /** Starts the server again on the same port and data directory. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.directory,
        '--appendonly',
        this.appendOnly ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await waitFor(
      async () => (await redisUnavailableReason(this.url)) === undefined,
      `redis-server on port ${this.port} to answer`,
    );
  }

  /** Stops the server with SIGTERM (the append-only file keeps the data) and waits for its exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => resolve()),
    );
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops the server and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * Declares a `describe` block that needs Redis: by default the shared one
 * at `REDIS_URL`, or what `unavailableReason` checks. Test files `await` it
 * at the top level. Without Redis the block fails under CI (`CI` set) and
 * is skipped with one visible line elsewhere.
 */
export async function describeWithRedis(
  title: string,
  body: () => void,
  unavailableReason: () => Promise<string | undefined> = () =>
    redisUnavailableReason(),
): Promise<void> {
  const reason = await unavailableReason();
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  if (process.env.CI) {
    describe(title, () => {
      it('has Redis available', () => {
        throw new Error(`Redis unavailable in CI: ${reason}`);
      });
    });
    return;
  }
  process.stdout.write(`SKIPPED ${title}: ${reason}\n`);
  describe.skip(title, body);
}
