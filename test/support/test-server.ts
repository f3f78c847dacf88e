import type { ModuleMetadata } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { createRelayApp } from '../../src/app.factory.js';

export interface TestServer {
  app: NestExpressApplication;
  port: number;
  /** WebSocket endpoint, `ws://127.0.0.1:PORT/ws` unless `WS_PATH` says otherwise. */
  wsUrl: string;
  /** HTTP base, `http://127.0.0.1:PORT`. */
  httpUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the real application on an ephemeral loopback port.
 * @param environment settings on top of `NODE_ENV=test` and `LOG_LEVEL=error`.
 */
export async function startTestServer(
  environment: Record<string, string> = {},
  imports: NonNullable<ModuleMetadata['imports']> = [],
): Promise<TestServer> {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    ...environment,
  };
  const { app } = await createRelayApp(env, imports);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const path = env.WS_PATH ?? '/ws';
  let closed: Promise<void> | undefined;
  return {
    app,
    port,
    wsUrl: `ws://127.0.0.1:${port}${path}`,
    httpUrl: `http://127.0.0.1:${port}`,
    close: () => (closed ??= app.close()),
  };
}
