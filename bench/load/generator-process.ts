import { LoadGenerator } from './generator.js';
import type { GeneratorCommand, GeneratorReply } from './remote-generator.js';

/**
 * Entry point of one load generator process, driven by `RemoteGenerator`
 * over the IPC channel. It exits after `close`, or when the harness goes
 * away.
 */
const generator = new LoadGenerator();

function reply(message: GeneratorReply): void {
  process.send?.(message);
}

async function handle(command: GeneratorCommand): Promise<unknown> {
  switch (command.command) {
    case 'setup':
      return generator.setup(command.request);
    case 'load':
      return generator.load(command.request);
    case 'close':
      await generator.close();
      return undefined;
  }
}

process.on('message', (command: GeneratorCommand) => {
  handle(command)
    .then((result) => {
      reply({ id: command.id, ok: true, result });
      if (command.command === 'close') {
        process.disconnect();
      }
    })
    .catch((error: unknown) =>
      reply({
        id: command.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
});

process.on('disconnect', () => {
  void generator.close().then(() => process.exit(0));
});
