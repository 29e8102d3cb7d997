/**
 * What every answer needs to know of its request, whether Fastify routed it or it was answered
 * from memory before routing: its id, its client's address, whether it carries a body.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** A caller's own X-Request-Id is kept when it is a plain token of at most 64 characters. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Request ids of this process: the caller's own X-Request-Id when it is a plain token, otherwise
 * a random prefix drawn once and a counter (no entropy drawn per request).
 */
export function requestIds(): (given: string | string[] | undefined) => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return (given) => {
    if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
    counter += 1;
    return `${prefix}${counter.toString(16).padStart(8, '0')}`;
  };
}

/**
 * The client's address as Fastify reports it (`request.ip`): the peer's, or with `trustProxy` the
 * first address of X-Forwarded-For.
 */
export function clientAddresses(trustProxy: boolean): (request: IncomingMessage) => string {
  if (!trustProxy) return (request) => request.socket.remoteAddress ?? '';
  const trustAll = () => true;
  return (request) => {
    const addresses = proxyAddr.all(request, trustAll);
    return addresses[addresses.length - 1] ?? '';
  };
}

/** Whether a request announces a body (a length above zero, or a chunked one). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The request headers an answer from memory reads. */
export interface MemoryRequestHeaders {
  accept: string | undefined;
  ifNoneMatch: string | undefined;
  requestId: string | undefined;
}

/**
 * Reads into `into`, from the request's raw header list, the headers an answer from memory reads.
 * False when the request announces a body or repeats one of them (Node's headers object joins
 * repeats into one value): such a request is routed. Names are compared by length first, so that
 * most are never lowercased.
 */
export function readMemoryRequestHeaders(raw: readonly string[], into: MemoryRequestHeaders): boolean {
  into.accept = undefined;
  into.ifNoneMatch = undefined;
  into.requestId = undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    let field: keyof MemoryRequestHeaders;
    switch (name.length) {
      case 6:
        if (name.toLowerCase() !== 'accept') continue;
        field = 'accept';
        break;
      case 12:
        if (name.toLowerCase() !== 'x-request-id') continue;
        field = 'requestId';
        break;
      case 13:
        if (name.toLowerCase() !== 'if-none-match') continue;
        field = 'ifNoneMatch';
        break;
      case 14:
        if (name.toLowerCase() === 'content-length' && value !== '0') return false;
        continue;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return false;
        continue;
      default:
        continue;
    }
    if (into[field] !== undefined) return false;
    into[field] = value;
  }
  return true;
}
