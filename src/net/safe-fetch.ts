import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import type { AddressGuard } from './address-guard.js';

export type SafeFetchFailure =
  | 'invalid-url'
  | 'blocked-address'
  | 'dns'
  | 'timeout'
  | 'network'
  | 'too-many-redirects'
  | 'http-status'
  | 'content-type'
  | 'too-large';

/** A refused or failed fetch; `reason` is machine-readable, the message safe to show. */
export class SafeFetchError extends Error {
  constructor(
    readonly reason: SafeFetchFailure,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SafeFetchError';
  }
}

export interface SafeFetchOptions {
  readonly guard: AddressGuard;
  /** Whole fetch, redirects included. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects?: number;
  /** Content types accepted (prefix match); a missing Content-Type passes. */
  readonly acceptContentTypes?: readonly string[];
  readonly userAgent?: string;
}

export interface FetchedBody {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Resolves a host to every address, refusing the lot if any one is not allowed (DNS rebinding). */
async function checkedAddress(
  host: string,
  guard: AddressGuard,
): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: { address: string; family: number }[];
  if (isIP(bare) !== 0) {
    addresses = [{ address: bare, family: isIP(bare) }];
  } else {
    try {
      addresses = await lookup(bare, { all: true, verbatim: true });
    } catch {
      throw new SafeFetchError('dns', `The host ${bare} could not be resolved.`, { host: bare });
    }
  }
  if (addresses.length === 0)
    throw new SafeFetchError('dns', `The host ${bare} has no address.`, { host: bare });
  for (const { address } of addresses) {
    const refusal = guard.refusal(address);
    if (refusal !== undefined) {
      throw new SafeFetchError(
        'blocked-address',
        `Refusing to fetch from ${bare}: ${address} is a ${refusal} address.`,
        {
          host: bare,
          address,
          range: refusal,
        },
      );
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * GETs a URL for import, safe against server-side request forgery: only http(s), no credentials
 * in the URL, every hop's host resolved and checked by the guard, the connection pinned to the
 * checked address (no second DNS answer can swap it), at most `maxRedirects` redirects (each
 * checked again), one time limit for all of it, and the body cut off past `maxBytes`.
 * @throws SafeFetchError
 */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<FetchedBody> {
  const maxRedirects = options.maxRedirects ?? 3;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new SafeFetchError('invalid-url', 'The URL is not valid.');
  }
  for (let hop = 0; ; hop += 1) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new SafeFetchError(
        'invalid-url',
        `Only http and https URLs can be imported (got ${current.protocol}).`,
      );
    }
    if (current.username !== '' || current.password !== '') {
      throw new SafeFetchError('invalid-url', 'URLs with credentials cannot be imported.');
    }
    const pinned = await checkedAddress(current.hostname, options.guard);
    const pinnedLookup: LookupFunction = (_hostname, lookupOptions, callback) => {
      if ((lookupOptions as { all?: boolean }).all)
        callback(null, [{ address: pinned.address, family: pinned.family }]);
      else callback(null, pinned.address, pinned.family);
    };
    const agent = new Agent({
      connect: { lookup: pinnedLookup, timeout: options.timeoutMs },
      connections: 1,
      pipelining: 0,
    });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(current, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headers: { 'user-agent': options.userAgent ?? 'Tessera-Import/1.0', accept: 'image/*' },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
    } catch (error) {
      await agent.close().catch(() => undefined);
      if (signal.aborted)
        throw new SafeFetchError('timeout', `The fetch took longer than ${options.timeoutMs} ms.`);
      throw new SafeFetchError('network', `The URL could not be fetched: ${(error as Error).message}.`);
    }
    try {
      if (REDIRECTS.has(response.statusCode)) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== 'string')
          throw new SafeFetchError('http-status', `Redirect ${response.statusCode} without a location.`);
        if (hop >= maxRedirects)
          throw new SafeFetchError('too-many-redirects', `More than ${maxRedirects} redirects.`);
        current = new URL(location, current);
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new SafeFetchError('http-status', `The URL answered ${response.statusCode}.`, {
          status: response.statusCode,
        });
      }
      const rawType = response.headers['content-type'];
      const contentType =
        typeof rawType === 'string' ? rawType.split(';')[0]!.trim().toLowerCase() : undefined;
      if (
        contentType !== undefined &&
        options.acceptContentTypes &&
        !options.acceptContentTypes.some((t) => contentType.startsWith(t))
      ) {
        await response.body.dump();
        throw new SafeFetchError('content-type', `The URL serves ${contentType}, not an image.`, {
          contentType,
        });
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.body.destroy();
        throw new SafeFetchError(
          'too-large',
          `The file is ${declared} bytes, more than the ${options.maxBytes} allowed.`,
          { maxBytes: options.maxBytes },
        );
      }
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of response.body) {
          const buffer = chunk as Buffer;
          total += buffer.length;
          if (total > options.maxBytes) {
            response.body.destroy();
            throw new SafeFetchError(
              'too-large',
              `The file is larger than the ${options.maxBytes} bytes allowed.`,
              { maxBytes: options.maxBytes },
            );
          }
          chunks.push(buffer);
        }
      } catch (error) {
        if (error instanceof SafeFetchError) throw error;
        if (signal.aborted)
          throw new SafeFetchError('timeout', `The fetch took longer than ${options.timeoutMs} ms.`);
        throw new SafeFetchError('network', 'The download was interrupted.');
      }
      return { body: Buffer.concat(chunks, total), contentType, finalUrl: current.toString() };
    } finally {
      await agent.close().catch(() => undefined);
    }
  }
}
