import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { buildServer } from './build.js';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  wsUrl: string;
  httpUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code and signal once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGKILL unless the process already ended. */
  kill(): Promise<void>;
}

/**
 * Runs the compiled server as a child process on the given port and waits
 * until it logs that it listens.
 */
export async function startServerProcess(
  port: number,
  environment: Record<string, string> = {},
): Promise<ServerProcess> {
  const dir = buildServer();
  const child = spawn(process.execPath, [join(dir, 'main.js')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'log',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));

  const deadline = Date.now() + 15_000;
  while (!output.includes('Payment relay listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server process did not start:\n${output}`);
    }
    await Promise.race([once(child.stdout, 'data'), exited]);
  }

  return {
    child,
    port,
    wsUrl: `ws://127.0.0.1:${port}${environment.WS_PATH ?? '/ws'}`,
    httpUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || address === null) {
    throw new Error('no port assigned');
  }
  return address.port;
}
