import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, isDomainError, notFound } from '../../errors/index.js';
import type { DeliveryService, ImageAnswer } from '../../media/delivery.service.js';
import type { VariantMeta } from '../../media/variants.service.js';
import type { UsageMeter } from '../../media/usage.service.js';
import type { HistogramCell, Metrics } from '../../observability/metrics.js';
import { rateLimitHeaders, type RateLimiter } from '../../media/rate-limits.js';
import { readMemoryRequestHeaders, type MemoryRequestHeaders } from '../requests.js';
import { dependencyUnavailable } from '../unavailable.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: @fastify/cors leaves the route's answers as they are (it reads this setting). */
    cors?: boolean;
  }
}

/** The image endpoint's route, as Fastify names it (in metrics too). */
export const IMAGE_ROUTE = '/v1/:access/:org/:tenant/:space/img/:assetId/:version/*';

interface ImageParams {
  access: string;
  org: string;
  tenant: string;
  space: string;
  assetId: string;
  version: string;
  /** The file (`{ops}.{ext}`): a wildcard, so an overlong ops string reaches the grammar's own refusal. */
  '*': string;
}

interface ImageQuery {
  exp?: string;
  kid?: string;
  sig?: string;
}

const quoted = (etag: string): string => `"${etag}"`;

/** True when `If-None-Match` names this entity (or `*`). */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === quoted(etag));
}

/** Headers of every image answer. Images are for any origin: the API's CORS settings do not apply. */
function commonHeaders(cacheControl: string, etag: string): Record<string, string> {
  return {
    'cache-control': cacheControl,
    etag: quoted(etag),
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
  };
}

type VariantAnswer = Extract<ImageAnswer, { kind: 'variant' }>;

/** Headers of a variant answer (routed or answered from memory alike), but its length. */
function variantHeaders(
  { variant, cacheControl, vary }: VariantAnswer,
  totalMs: number,
): Record<string, string> {
  return {
    ...commonHeaders(cacheControl, variant.meta.sha256),
    ...(vary ? { vary: 'Accept' } : {}),
    'content-type': variant.meta.contentType,
    'x-cache': variant.layer,
    'server-timing': [
      `cache;desc="${variant.layer}"`,
      ...(variant.renderMs === undefined ? [] : [`render;dur=${variant.renderMs}`]),
      `total;dur=${totalMs.toFixed(1)}`,
    ].join(', '),
  };
}

/**
 * What a variant answer sends — 304 when `If-None-Match` names it, else its bytes (none for a
 * HEAD) — counted by the layer that answered and, but for a HEAD, recorded as served.
 */
function recordVariant(
  { variant, space }: VariantAnswer,
  method: string | undefined,
  ifNoneMatch: string | undefined,
  { usage, metrics }: Pick<ImageRouteOptions, 'usage' | 'metrics'>,
): { status: 304 } | { status: 200; body: Buffer | undefined } {
  metrics.answered(variant.layer);
  if (notModified(ifNoneMatch, variant.meta.sha256)) {
    usage.recordServe(space, 0, variant.meta.key);
    metrics.recordImage(space.id, 0);
    return { status: 304 };
  }
  if (method === 'HEAD') return { status: 200, body: undefined };
  usage.recordServe(space, variant.data.length, variant.meta.key);
  metrics.recordImage(space.id, variant.data.length);
  return { status: 200, body: variant.data };
}

/**
 * `GET|HEAD /v1/{pub|priv}/{org}/{tenant}/{space}/img/{assetId}/v{version}/{ops}.{ext}`: the
 * image endpoint. It parses, asks the delivery service, and shapes the answer: 301 to the
 * canonical URL, 304 on a matching `If-None-Match`, the bytes with their cache headers, and which
 * layer answered (`X-Cache`, `Server-Timing`). Errors are problem+json with their status; a
 * registry or store that is down answers 503 with `Retry-After`.
 */
export interface ImageRouteOptions {
  readonly delivery: DeliveryService;
  readonly usage: UsageMeter;
  readonly metrics: Metrics;
  readonly limiter: RateLimiter;
}

export async function registerImageRoute(
  app: FastifyInstance,
  { delivery, usage, metrics, limiter }: ImageRouteOptions,
): Promise<void> {
  app.route<{ Params: ImageParams; Querystring: ImageQuery }>({
    method: ['GET', 'HEAD'],
    url: IMAGE_ROUTE,
    config: { cors: false },
    handler: async (request, reply) => {
      try {
        return await answerImage(request, reply);
      } catch (error) {
        // headers of the image that was on its way (its length above all) do not describe the problem
        for (const header of ['content-length', 'content-type', 'etag', 'cache-control', 'vary', 'x-cache'])
          reply.removeHeader(header);
        // A refusal by a limit (this address's images, its renders, the space's own) describes it.
        if (isDomainError(error) && error.code === ErrorCode.RateLimited) {
          const limit = error.details?.limit;
          if (typeof limit === 'number')
            reply.headers(
              rateLimitHeaders({
                allowed: false,
                limit,
                remaining: 0,
                resetSeconds: error.retryAfterSeconds ?? 60,
              }),
            );
        }
        throw dependencyUnavailable(error) ?? error;
      }
    },
  });

  async function answerImage(
    request: FastifyRequest<{ Params: ImageParams; Querystring: ImageQuery }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const started = process.hrtime.bigint();
    const { '*': file, ...params } = request.params;
    if (file === '' || file.includes('/')) throw notFound('Image');
    // a refusal gets its RateLimit headers where every limit's refusal does (the handler's catch)
    const decision = await limiter.enforce('image', request.ip);
    if (decision) reply.headers(rateLimitHeaders(decision));
    const answer = await delivery.answer({
      clientIp: request.ip,
      ...params,
      file,
      path: request.url.split('?')[0]!,
      exp: request.query.exp,
      kid: request.query.kid,
      sig: request.query.sig,
      accept: request.headers.accept,
    });
    if (answer.kind === 'redirect') {
      return reply
        .code(301)
        .header('location', answer.location)
        .header('cache-control', answer.cacheControl)
        .send();
    }
    if (answer.kind === 'original') {
      reply
        .headers(commonHeaders(answer.cacheControl, answer.etag))
        .header('content-type', answer.contentType)
        .header('x-cache', 'original');
      if (notModified(request.headers['if-none-match'], answer.etag)) {
        usage.recordServe(answer.space, 0);
        metrics.recordImage(answer.space.id, 0);
        return reply.code(304).send();
      }
      reply.header('content-length', String(answer.bytes));
      if (request.method === 'HEAD') return reply.send();
      usage.recordServe(answer.space, answer.bytes);
      metrics.recordImage(answer.space.id, answer.bytes);
      return reply.send(await answer.body());
    }
    reply.headers(variantHeaders(answer, Number(process.hrtime.bigint() - started) / 1e6));
    const sent = recordVariant(answer, request.method, request.headers['if-none-match'], { usage, metrics });
    if (sent.status === 304) return reply.code(304).send();
    reply.header('content-length', String(answer.variant.data.length));
    return sent.body ? reply.send(sent.body) : reply.send();
  }
}

export interface MemoryAnswerOptions extends ImageRouteOptions {
  /** The request's id (from its X-Request-Id when that is a plain token). */
  readonly requestId: (given: string | string[] | undefined) => string;
  /** The client's address, as the route's `request.ip`. */
  readonly clientAddress: (request: IncomingMessage) => string;
}

/**
 * Answers public image URLs from memory before any routing, when the delivery service can (a URL
 * answered before, its variant's bytes held, nothing changed since) and the client's limits are
 * decided on this node: the status, headers and bytes the route would send, counted, metered and
 * measured alike. Returns false, having done nothing, when the request must be routed.
 */
export function memoryAnswers(
  options: MemoryAnswerOptions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { delivery, usage, metrics, limiter, requestId, clientAddress } = options;
  // The headers every answer of a variant shares, made once (as the route makes them), with its
  // length and without.
  const fixedHeads = new WeakMap<VariantMeta, SharedHeads>();
  const negotiatedHeads = new WeakMap<VariantMeta, SharedHeads>();
  // GET 200, GET 304, HEAD 200, HEAD 304
  const durations: (HistogramCell | undefined)[] = [];
  const duration = (method: 'GET' | 'HEAD', status: 200 | 304): HistogramCell =>
    (durations[(method === 'HEAD' ? 2 : 0) + (status === 304 ? 1 : 0)] ??= metrics.httpDuration.cell({
      method,
      route: IMAGE_ROUTE,
      status: String(status),
    }));
  const recorders = { usage, metrics };
  // Server-Timing values by tenths of a millisecond, made once each (answers take well under 10 ms)
  const timings: string[] = [];
  const serverTiming = (ms: number): string => {
    const tenths = Math.round(ms * 10);
    return tenths < 100
      ? (timings[tenths] ??= `cache;desc="memory", total;dur=${(tenths / 10).toFixed(1)}`)
      : `cache;desc="memory", total;dur=${ms.toFixed(1)}`;
  };
  // the headers of the request being answered (answers are synchronous: one object serves them all)
  const headers: MemoryRequestHeaders = { accept: undefined, ifNoneMatch: undefined, requestId: undefined };
  return (request, response) => {
    const started = performance.now();
    const { method, url } = request;
    if (
      (method !== 'GET' && method !== 'HEAD') ||
      url === undefined ||
      !url.startsWith('/v1/pub/') ||
      url.includes('?') ||
      !readMemoryRequestHeaders(request.rawHeaders, headers)
    )
      return false;
    const ip = clientAddress(request);
    const answer = delivery.answerFromMemory(url, headers.accept, ip);
    if (!answer) return false;
    const decisions = limiter.tryLocal([{ cls: 'image', identity: ip }, ...answer.limits]);
    if (!decisions) return false;
    const { variant } = answer;
    const clientLimit = decisions[0];
    const byMeta = answer.vary ? negotiatedHeads : fixedHeads;
    let shared = byMeta.get(variant.meta);
    if (!shared) {
      const { 'server-timing': _timing, ...rest } = variantHeaders(answer, 0);
      const common = Object.entries(rest).flat();
      shared = { full: [...common, 'content-length', String(variant.data.length)], bare: common };
      byMeta.set(variant.meta, shared);
    }
    const sent = recordVariant(answer, method, headers.ifNoneMatch, recorders);
    const head = (sent.status === 200 ? shared.full : shared.bare).slice();
    head.push(
      'x-request-id',
      requestId(headers.requestId),
      'server-timing',
      serverTiming(performance.now() - started),
    );
    if (clientLimit)
      head.push(
        'ratelimit-limit',
        String(clientLimit.limit),
        'ratelimit-remaining',
        String(clientLimit.remaining),
        'ratelimit-reset',
        String(clientLimit.resetSeconds),
      );
    response.writeHead(sent.status, head).end(sent.status === 200 ? sent.body : undefined);
    duration(method, sent.status).observe((performance.now() - started) / 1000);
    return true;
  };
}

/**
 * The headers of a variant's answers from memory but those made per request: with its length
 * (200) and without (304).
 */
interface SharedHeads {
  readonly full: readonly string[];
  readonly bare: readonly string[];
}
