import type { ModuleMetadata } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, ENVIRONMENT } from './app.module.js';
import type { EnvironmentVariables } from './config/environment.js';
import { createLogger } from './logger.js';
import { RelayWsAdapter } from './relay/gateway/relay-ws.adapter.js';
import { configureHttpSecurity } from './security/http-security.js';
import {
  SECURITY_OPTIONS,
  type SecurityOptions,
} from './security/security-options.js';

export interface RelayApp {
  app: NestExpressApplication;
  env: EnvironmentVariables;
}

/**
 * Creates the relay application, not yet listening: logger, WebSocket
 * adapter and validated settings in place.
 * @param environment variables to use instead of `process.env` and `.env`.
 * @param imports further modules, such as ones that register flow events.
 */
export async function createRelayApp(
  environment?: Record<string, string | undefined>,
  imports: NonNullable<ModuleMetadata['imports']> = [],
): Promise<RelayApp> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(environment, imports),
    {
      bufferLogs: true,
      abortOnError: false,
      // The result endpoint verifies its HMAC signature over the exact body.
      rawBody: true,
    },
  );
  const env = app
    .get(ConfigService)
    .getOrThrow<EnvironmentVariables>(ENVIRONMENT);
  app.useLogger(createLogger(env));
  app.useWebSocketAdapter(new RelayWsAdapter(app));
  configureHttpSecurity(app, app.get<SecurityOptions>(SECURITY_OPTIONS));
  return { app, env };
}
