import type { FastifyRequest } from 'fastify';

/**
 * A browser on this machine, connected directly: only such a client is offered the embedded
 * bootstrap key (a proxy in between could be relaying anyone).
 */
export function isLocalClient(request: FastifyRequest): boolean {
  const ip = request.socket.remoteAddress ?? '';
  const direct = request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
  return direct && (ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1');
}

/** True when the client takes gzip. */
export const acceptsGzip = (request: FastifyRequest): boolean =>
  /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
