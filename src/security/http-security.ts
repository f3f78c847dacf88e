import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecurityOptions } from './security-options.js';

/** Largest JSON request body accepted on the HTTP routes. */
export const MAX_HTTP_BODY = '16kb';

/**
 * Sets response headers that stop browsers from sniffing types, framing the
 * responses or sending referrers elsewhere.
 */
export function securityHeaders(
  _request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  response.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  next();
}

/**
 * Applies the HTTP side of the security settings: no `X-Powered-By`, the
 * security headers, CORS only for `CORS_ORIGINS` (none by default), the
 * proxy hops of `TRUST_PROXY` for `request.ip`, and a bounded JSON body.
 */
export function configureHttpSecurity(
  app: NestExpressApplication,
  options: SecurityOptions,
): void {
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.use(securityHeaders);
  app.useBodyParser('json', { limit: MAX_HTTP_BODY });
  if (options.corsOrigins.length > 0) {
    app.enableCors({
      origin: options.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
  }
}
