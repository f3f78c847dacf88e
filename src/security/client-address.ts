import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Returns the address of the client behind a request. With `trustedProxies`
 * at 0 it is the socket's address. With N trusted proxies in front of the
 * server, it is the Nth `X-Forwarded-For` entry from the right (the address
 * the outermost trusted proxy saw), so a client cannot pick its own address
 * by sending the header itself.
 */
export function clientAddressOf(
  request: IncomingMessage,
  trustedProxies: number,
): string {
  const socketAddress = normalize(request.socket.remoteAddress ?? 'unknown');
  if (trustedProxies === 0) {
    return socketAddress;
  }

  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const chain = [...forwarded, socketAddress];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedProxies)];
  return isIP(candidate) ? normalize(candidate) : socketAddress;
}

/** Maps IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) to plain IPv4. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address;
}
