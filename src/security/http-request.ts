import type { IncomingMessage } from 'node:http';

/** The fields of an Express request that the security guards read. */
export interface HttpRequest extends IncomingMessage {
  /** Client address, through the proxies that `TRUST_PROXY` trusts. */
  ip?: string;
  originalUrl?: string;
  /** The unparsed body, kept because the app is created with `rawBody: true`. */
  rawBody?: Buffer;
  /** Route parameters, decoded, once Express matched the route. */
  params?: Record<string, string | undefined>;
}

/** Returns the request's path without its query string, which may hold a token. */
export function pathOf(request: HttpRequest): string {
  return (request.originalUrl ?? request.url ?? '').split('?', 1)[0];
}
