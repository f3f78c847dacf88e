import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createRelayApp } from './app.factory.js';

const logger = new Logger('Bootstrap');

async function bootstrap(): Promise<void> {
  const { app, env } = await createRelayApp();

  // Nest's shutdown hooks close the application; this timer makes sure the
  // process ends even when a connection or a store does not let go.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received: shutting down`);
      setTimeout(() => {
        logger.error(
          `Shutdown took longer than SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS} ms): exiting`,
        );
        process.exit(1);
      }, env.SHUTDOWN_TIMEOUT_MS).unref();
    });
  }
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);

  await app.listen(env.PORT, env.HOST);
  logger.log(
    `Payment relay listening on http://${env.HOST}:${env.PORT} (WebSocket ${env.WS_PATH}, ${env.NODE_ENV} mode)`,
  );
}

bootstrap().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
