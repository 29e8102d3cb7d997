import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, isDomainError, notFound } from '../../errors/index.js';
import type { DeliveryService } from '../../media/delivery.service.js';
import type { UsageMeter } from '../../media/usage.service.js';
import type { Metrics } from '../../observability/metrics.js';
import { rateLimitHeaders, type RateLimiter } from '../../media/rate-limits.js';
import { dependencyUnavailable } from '../unavailable.js';

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
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === quoted(etag));
}

function commonHeaders(reply: FastifyReply, cacheControl: string, etag: string): void {
  reply
    .header('cache-control', cacheControl)
    .header('etag', quoted(etag))
    .header('x-content-type-options', 'nosniff')
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('access-control-allow-origin', '*');
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
    url: '/v1/:access/:org/:tenant/:space/img/:assetId/:version/*',
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
      commonHeaders(reply, answer.cacheControl, answer.etag);
      reply.header('content-type', answer.contentType).header('x-cache', 'original');
      if (notModified(request, answer.etag)) {
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
    const { variant } = answer;
    metrics.cacheHits.inc({ layer: variant.layer });
    commonHeaders(reply, answer.cacheControl, variant.meta.sha256);
    if (answer.vary) reply.header('vary', 'Accept');
    const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
    reply
      .header('content-type', variant.meta.contentType)
      .header('x-cache', variant.layer)
      .header(
        'server-timing',
        [
          `cache;desc="${variant.layer}"`,
          ...(variant.renderMs === undefined ? [] : [`render;dur=${variant.renderMs}`]),
          `total;dur=${totalMs.toFixed(1)}`,
        ].join(', '),
      );
    if (notModified(request, variant.meta.sha256)) {
      usage.recordServe(answer.space, 0, variant.meta.key);
      metrics.recordImage(answer.space.id, 0);
      return reply.code(304).send();
    }
    reply.header('content-length', String(variant.data.length));
    if (request.method === 'HEAD') return reply.send();
    usage.recordServe(answer.space, variant.data.length, variant.meta.key);
    metrics.recordImage(answer.space.id, variant.data.length);
    return reply.send(variant.data);
  }
}
