import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import processRequest from 'graphql-upload/processRequest.mjs';
import { ErrorCode, isDomainError } from '../../errors/index.js';
import type { GraphQLContext } from '../../graphql/context.js';
import type { PlaygroundPages } from './playground.js';
import { acceptsGzip, isLocalClient } from '../local-client.js';

export interface GraphQLRouteOptions {
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly context: (request: FastifyRequest) => Promise<GraphQLContext>;
  readonly playground: PlaygroundPages;
  /** Largest file in a multipart request (bytes). */
  readonly maxFileSize: number;
  /** Counts the request against its rate limit; resolves to headers to send, or throws RATE_LIMITED. */
  readonly rateLimit?: (request: FastifyRequest) => Promise<Record<string, string>>;
}

const wantsHtml = (request: FastifyRequest): boolean => {
  const accept = request.headers.accept ?? '';
  const query = request.query as Record<string, unknown> | undefined;
  return accept.includes('text/html') && (query?.query === undefined || query.query === '');
};

/**
 * `/graphql`: Apollo Server for POST and GET queries, GraphQL multipart requests (uploads) through
 * graphql-upload, and the GraphiQL playground for browsers (`GET` with `Accept: text/html`).
 * Apollo's CSRF prevention stays on: multipart requests need an `apollo-require-preflight` header.
 */
export async function registerGraphQLRoute(
  app: FastifyInstance,
  options: GraphQLRouteOptions,
): Promise<void> {
  await app.register(async (scope) => {
    // Multipart bodies are read by graphql-upload, after Apollo's CSRF headers are known to be there.
    scope.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
    if (options.rateLimit) {
      const limit = options.rateLimit;
      scope.addHook('onRequest', async (request, reply) => {
        if (request.method === 'OPTIONS' || (request.method === 'GET' && wantsHtml(request))) return;
        try {
          reply.headers(await limit(request));
        } catch (error) {
          if (!isDomainError(error) || error.code !== ErrorCode.RateLimited) throw error;
          const retryAfter = error.retryAfterSeconds ?? 60;
          return reply
            .code(429)
            .header('retry-after', String(retryAfter))
            .header('content-type', 'application/json; charset=utf-8')
            .send({
              errors: [
                { message: error.message, extensions: { code: error.code, retryAfter, ...error.details } },
              ],
            });
        }
      });
    }
    scope.addHook('preValidation', async (request, reply) => {
      if (!request.headers['content-type']?.toLowerCase().startsWith('multipart/form-data')) return;
      // Without a preflight header Apollo refuses the request (CSRF): do not read the files first.
      if (!request.headers['apollo-require-preflight'] && !request.headers['x-apollo-operation-name']) return;
      request.body = await processRequest(request.raw, reply.raw, {
        maxFileSize: options.maxFileSize,
        maxFiles: 1,
      });
    });

    const handler = fastifyApolloHandler(options.apollo, {
      context: async (request) => options.context(request),
    });
    scope.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/graphql',
      handler: async function (request, reply) {
        if (request.method === 'GET' && wantsHtml(request)) {
          const page = options.playground.page(isLocalClient(request));
          const gzip = acceptsGzip(request);
          reply
            .header('content-type', 'text/html; charset=utf-8')
            .header('cache-control', 'no-store')
            .header('vary', 'accept, accept-encoding');
          if (gzip) reply.header('content-encoding', 'gzip');
          return reply.send(gzip ? page.gzip : page.html);
        }
        return handler.call(this, request, reply);
      },
    });
  });
}
