/**
 * Preloaded into every server under test (`node --expose-gc --import
 * probe.js ...`) so the harness can read the process's own CPU time and
 * memory over the IPC channel. It answers `{ type: 'probe' }` with a
 * `ProbeReading`; the IPC channel does not keep the process alive.
 */
export interface ProbeReading {
  type: 'probe';
  /** User plus system CPU time of the whole process, in microseconds. */
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
}

interface ProbeRequest {
  type?: unknown;
  collectGarbage?: unknown;
}

const collectGarbage = (globalThis as { gc?: () => void }).gc;

if (process.send) {
  process.on('message', (message: ProbeRequest) => {
    if (message?.type !== 'probe') {
      return;
    }
    if (message.collectGarbage === true && collectGarbage) {
      collectGarbage();
    }
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const reading: ProbeReading = {
      type: 'probe',
      cpuMicros: cpu.user + cpu.system,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
    process.send?.(reading);
  });
  process.channel?.unref();
}
