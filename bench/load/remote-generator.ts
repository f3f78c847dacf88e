import { spawn, type ChildProcess } from 'node:child_process';
import type {
  GeneratorClient,
  LoadRequest,
  LoadResult,
  SetupRequest,
  SetupResult,
} from './generator.js';

export type GeneratorCommand = { id: number } & (
  | { command: 'setup'; request: SetupRequest }
  | { command: 'load'; request: LoadRequest }
  | { command: 'close' }
);

export type GeneratorReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };

/** Time a generator process may take to exit after `close`, in ms. */
const EXIT_TIMEOUT_MS = 5_000;

/**
 * A load generator in its own process, started with `command` (for example
 * `taskset -c 1 node generator-process.js`) and driven over IPC.
 */
export class RemoteGenerator implements GeneratorClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 1;
  private readonly exited: Promise<void>;

  constructor(command: string[]) {
    const [file, ...args] = command;
    this.child = spawn(file, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: GeneratorReply) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) {
        waiter?.resolve(message.result);
      } else {
        waiter?.reject(new Error(`Load generator failed: ${message.error}`));
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const waiter of this.pending.values()) {
          waiter.reject(
            new Error(`Load generator exited (code ${code}, signal ${signal})`),
          );
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  setup(request: SetupRequest): Promise<SetupResult> {
    return this.call({ command: 'setup', request }) as Promise<SetupResult>;
  }

  load(request: LoadRequest): Promise<LoadResult> {
    return this.call({ command: 'load', request }) as Promise<LoadResult>;
  }

  stop(): Promise<void> {
    return this.close();
  }

  /** Closes the generator's connections and stops its process; kills it if it hangs. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    try {
      if (this.child.connected) {
        await this.call({ command: 'close' }).catch(() => undefined);
      } else {
        this.child.kill('SIGTERM');
      }
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private call(
    command: GeneratorCommand extends infer C
      ? C extends { id: number }
        ? Omit<C, 'id'>
        : never
      : never,
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error('Load generator process is not running'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...command, id });
    });
  }
}
