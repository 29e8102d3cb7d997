/**
 * The composition root: config → adapters → services → edges. Nothing else wires components
 * together, and nothing below this file reads the environment.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { ApiKeyService } from './auth/api-keys.js';
import { Authenticator } from './auth/authenticator.js';
import { JwtVerifier } from './auth/jwt.js';
import { AuditService } from './audit/audit.service.js';
import type { SharedState } from './cache/cache.js';
import { MemoryState } from './cache/memory-state.js';
import { RedisState } from './cache/redis-state.js';
import type { Config } from './config/index.js';
import { openRegistry, type Registry } from './db/registry.js';
import { ErrorCode, isDomainError } from './errors/index.js';
import type { GraphQLContext, GraphQLServices } from './graphql/context.js';
import { createFormatError } from './graphql/format-error.js';
import { createLoaders } from './graphql/loaders.js';
import { queryLimitsPlugin } from './graphql/limits.js';
import { buildTesseraSchema } from './graphql/schema.js';
import { internalProblem, problemOf, sendProblem } from './http/problem.js';
import { dependencyUnavailable } from './http/unavailable.js';
import { registerGraphQLRoute } from './http/routes/graphql.js';
import { registerHealthRoutes } from './http/routes/health.js';
import { memoryAnswers, registerImageRoute } from './http/routes/image.js';
import { Connections } from './http/connections.js';
import { clientAddresses, hasBody, requestIds } from './http/requests.js';
import { registerLibraryRoute } from './http/routes/library.js';
import { PlaygroundPages } from './http/routes/playground.js';
import { registerUploadFormRoute } from './http/routes/upload-form.js';
import { BullQueue } from './jobs/bullmq-queue.js';
import { MemoryQueue } from './jobs/memory-queue.js';
import type { JobQueue } from './jobs/queue.js';
import { AssetUrls } from './media/asset-urls.js';
import { AssetsService } from './media/assets.service.js';
import { DeliveryService } from './media/delivery.service.js';
import { AvifRenders, DEFAULT_PRESETS, EagerPresets } from './media/eager.service.js';
import { Maintenance, MAINTENANCE_JOB } from './media/maintenance.service.js';
import { PresetsService } from './media/presets.service.js';
import { Generations } from './media/generations.js';
import { QuotaService } from './media/quota.service.js';
import { RateLimiter, rateLimitHeaders } from './media/rate-limits.js';
import { UsageMeter } from './media/usage.service.js';
import { RenderSlots } from './media/render-slots.js';
import { VariantQueries, VariantsService } from './media/variants.service.js';
import { cleanupJobId, JOB, jobHandlers } from './media/jobs.js';
import { AssetCleanup } from './media/cleanup.service.js';
import { ImportService } from './media/import.service.js';
import { IngestService } from './media/ingest.service.js';
import { noPurge, type PurgeHook } from './media/purge.js';
import { UploadsService } from './media/uploads.service.js';
import { AddressGuard } from './net/address-guard.js';
import { WebhookPurgeHook } from './net/purge-webhook.js';
import { collectWhenIdle } from './observability/idle-gc.js';
import { createLogger, type Logger } from './observability/logger.js';
import { measuredStore, Metrics } from './observability/metrics.js';
import { SigningKeyService } from './signing/signing-keys.service.js';
import { LocalObjectStore } from './storage/local-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { S3ObjectStore } from './storage/s3-store.js';
import { bootstrapOrganization, type BootstrapResult } from './tenancy/bootstrap.js';
import { TenancyService } from './tenancy/tenancy.service.js';

/** How long a kept-alive connection may stay idle (Fastify's default). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** A client that stalls mid-request cannot hold a connection for ever. */
const REQUEST_TIMEOUT_MS = 300_000;
const CONNECTION_TIMEOUT_MS = 30_000;
/** A server without requests for this long after a burst collects the burst's garbage. */
const IDLE_COLLECTION_MS = 5_000;

export interface TesseraServices extends GraphQLServices {
  readonly delivery: DeliveryService;
}

export interface Tessera {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly state: SharedState;
  readonly store: ObjectStore;
  readonly metrics: Metrics;
  /** `$DATA_DIR/bootstrap.json`. */
  readonly bootstrapFile: string;
  readonly services: TesseraServices;
  readonly queue: JobQueue;
  /** Removes what deleted and replaced assets leave in storage. */
  readonly cleanup: AssetCleanup;
  readonly http: FastifyInstance;
  /**
   * Creates the first organization, tenant, space and admin key when the registry is empty, and
   * writes them to `$DATA_DIR/bootstrap.json` (mode 600).
   */
  bootstrapIfEmpty(): Promise<BootstrapResult | undefined>;
  /**
   * Resolves once the background work already asked for is done: eager presets of assets just
   * ingested are queued, and the queue is drained (jobs run in this process).
   */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TesseraOptions {
  readonly logger?: Logger;
  /** Run job handlers in this process whatever JOBS_IN_PROCESS says (`npm run worker`). */
  readonly worker?: boolean;
}

/** A secret kept in the data directory, made on first use (embedded mode: one node). */
function dataDirSecret(dataPath: string, name: string): Buffer {
  mkdirSync(dataPath, { recursive: true });
  const file = join(dataPath, name);
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64url'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/** The object store the configuration names (S3 when S3_BUCKET is set, else local disk). */
export function createStore(config: Config): ObjectStore {
  if (config.s3Bucket !== undefined) {
    return new S3ObjectStore({
      bucket: config.s3Bucket,
      region: config.s3Region,
      endpoint: config.s3Endpoint,
      forcePathStyle: config.s3ForcePathStyle,
      publicEndpoint: config.s3PublicEndpoint,
      credentials:
        config.s3AccessKeyId !== undefined && config.s3SecretAccessKey !== undefined
          ? { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey }
          : undefined,
    });
  }
  return new LocalObjectStore({
    root: join(config.dataPath, 'objects'),
    uploadBaseUrl: config.baseUrl,
    uploadSecret: dataDirSecret(config.dataPath, 'upload-secret'),
  });
}

/** Builds every component from the configuration; nothing listens until `http.listen`. */
export async function createTessera(config: Config, options: TesseraOptions = {}): Promise<Tessera> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const registry = await openRegistry({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataPath, 'registry'),
    poolSize: config.databasePoolSize,
    onQueryError: (error, query) => logger.debug({ err: error, query }, 'query failed'),
  });
  const state: SharedState =
    config.redisUrl === undefined
      ? new MemoryState()
      : new RedisState({ url: config.redisUrl, prefix: config.redisPrefix });
  const rawStore = createStore(config);
  const metrics = new Metrics(() => queue.counts(), config.workers > 1 && cluster.isWorker);
  const store = measuredStore(rawStore, metrics);

  const db = registry.dataSource;
  const tenancy = new TenancyService(db);
  const apiKeys = new ApiKeyService(db);
  const ingest = new IngestService(db, store, {
    maxUploadBytes: config.maxUploadBytes,
    maxInputPixels: config.maxInputPixels,
  });
  const purge: PurgeHook =
    config.purgeWebhookUrl === undefined
      ? noPurge
      : new WebhookPurgeHook(config.purgeWebhookUrl, config.purgeWebhookSecret);
  const cleanup = new AssetCleanup(db, store, purge, config.baseUrl, logger);
  const onJobError = (error: unknown, job: { id: string; name: string; attempt: number }) =>
    logger.warn({ err: error, job }, 'job failed');
  const queue: JobQueue =
    config.redisUrl === undefined
      ? new MemoryQueue({
          attempts: config.jobAttempts,
          backoffBaseMs: config.jobBackoffMs,
          onError: onJobError,
        })
      : new BullQueue({
          redisUrl: config.redisUrl,
          prefix: `${config.redisPrefix}bull`,
          attempts: config.jobAttempts,
          backoffBaseMs: config.jobBackoffMs,
          onError: onJobError,
        });
  cleanup.useScheduler(
    (task) => {
      queue.enqueue(JOB.cleanup, task, { jobId: cleanupJobId(task) }).catch((error: unknown) => {
        logger.error({ err: error, task }, 'could not enqueue cleanup');
      });
    },
    () => queue.drain(),
  );
  const assets = new AssetsService(db, tenancy, ingest, cleanup, { maxUploadBytes: config.maxUploadBytes });
  const usage = new UsageMeter(db, tenancy, logger);
  const quota = new QuotaService(db, tenancy, usage);
  const generations = new Generations(state, state, (error) =>
    logger.warn({ err: error }, 'change generations unreadable'),
  );
  usage.onFlushed(() => quota.forgetDaily());
  const quotaRows = async () => {
    const spaces = await tenancy.spacesWithQuota(200);
    const rows: { labels: Record<string, string>; value: number }[] = [];
    for (const space of spaces) {
      const used = await quota.usageOf(space);
      const limits = space.settings.quota ?? {};
      const label = metrics.spaceLabel(space.id);
      const pairs: [string, number | undefined, number][] = [
        ['storedBytes', limits.storedBytes, used.storedBytes],
        ['originals', limits.originals, used.originals],
        ['rendersPerDay', limits.rendersPerDay, used.rendersToday],
        ['bytesServedPerDay', limits.bytesServedPerDay, used.bytesServedToday],
      ];
      for (const [kind, limit, value] of pairs) {
        if (limit === undefined) continue;
        rows.push({ labels: { space: label, kind, measure: 'limit' }, value: limit });
        rows.push({ labels: { space: label, kind, measure: 'used' }, value });
      }
    }
    return rows;
  };
  metrics.addGauge(
    'tessera_space_quota',
    'Quota limits and use of spaces that have a quota (measure: limit or used).',
    ['space', 'kind', 'measure'],
    quotaRows,
  );
  ingest.useAdmission((space, addBytes, addOriginals) => quota.checkStore(space, addBytes, addOriginals));
  const transformLimits = {
    maxOutputDimension: config.maxOutputDimension,
    maxOperations: config.maxOperations,
  };
  const signingKeys = new SigningKeyService(db, config.signingKeyGraceSeconds);
  const presets = new PresetsService(db, tenancy, transformLimits);
  const variants = new VariantsService(
    db,
    store,
    state,
    new RenderSlots(config.maxConcurrentRenders, config.renderQueueWaitMs, config.renderMemoryBytes),
    {
      renderLimits: {
        maxInputPixels: config.maxInputPixels,
        maxOutputDimension: config.maxOutputDimension,
        timeoutSeconds: config.renderTimeoutSeconds,
      },
      memoryBytes: config.variantCacheBytes,
      originalBytes: config.originalCacheBytes,
      sharedMaxBytes: config.sharedCacheMaxBytes,
      sharedTtlSeconds: config.sharedCacheTtlSeconds,
      avifEffort: config.avifEffort,
      maxFrames: config.maxFrames,
      admitRender: async (asset, known) => {
        const space = known ?? (await tenancy.spacesByIds([asset.spaceId]))[0];
        if (space) await quota.checkRender(space);
      },
      onRender: (asset, ms, format) => {
        usage.recordRender({ id: asset.spaceId, organizationId: asset.organizationId }, ms);
        metrics.renderDuration.observe({ format }, ms / 1000);
      },
      onStoreError: (error, storageKey) => {
        // An asset deleted while its variant rendered fails the row's foreign key: nothing to report.
        const code = (error as { code?: unknown } | null)?.code;
        if (code === '23503') logger.debug({ storageKey }, 'variant of a deleted asset not stored');
        else logger.warn({ err: error, storageKey }, 'rendered variant could not be stored');
      },
    },
  );
  const variantQueries = new VariantQueries(db);
  const limiter = new RateLimiter(
    state,
    {
      graphql: config.rateLimitGraphqlPerMinute,
      image: config.rateLimitImagesPerMinute,
      render: config.rateLimitRendersPerMinute,
    },
    {
      // Counts are exchanged every 100 ms while a client is far below its limit (across nodes with
      // Redis): such a request is counted without waiting for the counters.
      batchMs: 100,
      onError: (error) =>
        logger.warn({ err: error }, 'rate limit counters unreachable: letting requests through'),
    },
  );
  const avifRenders = new AvifRenders(db, variants, queue, transformLimits);
  const delivery = new DeliveryService(
    db,
    tenancy,
    presets,
    variants,
    signingKeys,
    store,
    limiter,
    {
      standIn: config.avifStandIn,
      standInMaxAge: config.avifStandInMaxAge,
      enqueue: (job) => avifRenders.enqueue(job),
    },
    quota,
    generations,
    {
      baseUrl: config.baseUrl,
      limits: transformLimits,
      widthPolicy: config.widthPolicy,
    },
  );
  const eager = new EagerPresets(db, presets, variants, queue, state, transformLimits, logger);
  const services: TesseraServices = {
    tenancy,
    apiKeys,
    signingKeys,
    audit: new AuditService(db),
    assets,
    uploads: new UploadsService(db, store, tenancy, ingest, {
      maxUploadBytes: config.maxUploadBytes,
      uploadUrlSeconds: config.uploadUrlSeconds,
    }),
    imports: new ImportService(tenancy, ingest, new AddressGuard(config.importAllowNetworks), {
      maxUploadBytes: config.maxUploadBytes,
      timeoutMs: config.importTimeoutMs,
    }),
    presets,
    urls: new AssetUrls(signingKeys, {
      baseUrl: config.baseUrl,
      limits: transformLimits,
      defaultExpiresIn: config.signedUrlDefaultSeconds,
      maxExpiresIn: config.signedUrlMaxSeconds,
      widthPolicy: config.widthPolicy,
    }),
    variants,
    variantQueries,
    usage,
    eager,
    quota,
    generations,
    delivery,
  };
  const loaderSources = {
    organizationsByIds: (ids: readonly string[]) => tenancy.organizationsByIds(ids),
    tenantsByIds: (ids: readonly string[]) => tenancy.tenantsByIds(ids),
    spacesByIds: (ids: readonly string[]) => tenancy.spacesByIds(ids),
    spacePathsByIds: (ids: readonly string[]) => tenancy.spacePathsByIds(ids),
    assetsByIds: (ids: readonly string[]) => assets.byIds(ids),
    variantsForAssets: (list: readonly { id: string; version: number }[], first: number) =>
      variantQueries.forAssets(list, first),
  };
  const jwt =
    config.jwtSecret !== undefined || config.jwtJwksUrl !== undefined
      ? new JwtVerifier({
          secret: config.jwtSecret,
          jwksUrl: config.jwtJwksUrl,
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
        })
      : undefined;
  const authenticator = new Authenticator(apiKeys, jwt);

  const requestId = requestIds();
  // Hot public images are answered before routing when nothing about them needs deciding again;
  // everything else (and everything while the server closes) is Fastify's.
  const fromMemory =
    config.accessLog === 'misses'
      ? memoryAnswers({
          delivery,
          usage,
          metrics,
          limiter,
          requestId,
          clientAddress: clientAddresses(config.trustProxy),
        })
      : undefined;
  let connections: Connections | undefined;
  const idle = collectWhenIdle(IDLE_COLLECTION_MS);
  const http: FastifyInstance = Fastify({
    serverFactory: (route) => {
      const server = createServer((request, response) => {
        idle.request();
        connections?.request(response);
        if (connections?.ending || !fromMemory?.(request, response)) route(request, response);
      });
      connections = new Connections(server);
      // as Fastify sets up a server of its own
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = REQUEST_TIMEOUT_MS;
      server.setTimeout(CONNECTION_TIMEOUT_MS);
      return server;
    },
    loggerInstance: logger as FastifyBaseLogger,
    // one line per request, written by the onResponse hook below
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    bodyLimit: config.graphqlMaxBodyBytes,
    routerOptions: { maxParamLength: 1100 },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestIdHeader: false,
    genReqId: (request) => requestId(request.headers['x-request-id']),
    frameworkErrors: (error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const code =
        status === 413
          ? ErrorCode.PayloadTooLarge
          : status === 415
            ? ErrorCode.UnsupportedMediaType
            : ErrorCode.BadUserInput;
      void sendProblem(reply, problemOf(code, error.message));
    },
  });
  http.addHook('preClose', (done) => {
    idle.stop();
    connections?.close();
    done();
  });
  // Hooks run on every request, images included: plain callbacks, no promise each.
  http.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Answering before the request body was read (a refusal): rather than reading the rest of it
  // for nothing, close the connection. A request without a body may be answered before Node has
  // marked it complete (a synchronous answer): its connection stays open.
  http.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && hasBody(request.headers)) reply.header('connection', 'close');
    done(null, payload);
  });
  http.setNotFoundHandler(async (request, reply) =>
    sendProblem(
      reply,
      problemOf(ErrorCode.NotFound, `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
  http.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    const quiet =
      config.accessLog === 'misses' &&
      (reply.statusCode === 200 || reply.statusCode === 304) &&
      reply.getHeader('x-cache') === 'memory';
    if (!quiet)
      request.log.info(
        {
          method: request.method,
          url: request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    done();
  });
  http.setErrorHandler(async (error, request, reply) => {
    if (isDomainError(error)) return sendProblem(reply, error);
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code =
        status === 413
          ? ErrorCode.PayloadTooLarge
          : status === 415
            ? ErrorCode.UnsupportedMediaType
            : status === 404
              ? ErrorCode.NotFound
              : ErrorCode.BadUserInput;
      return sendProblem(reply, {
        ...problemOf(code, error instanceof Error ? error.message : 'Bad request.'),
        status,
      });
    }
    const down = dependencyUnavailable(error);
    if (down) {
      request.log.warn({ err: error }, 'dependency unavailable');
      return sendProblem(reply, down);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, internalProblem());
  });
  if (config.corsOrigins.length > 0) {
    await http.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
      allowedHeaders: [
        'authorization',
        'content-type',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'x-request-id',
      ],
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
      ],
      maxAge: 600,
    });
  }

  async function startApollo(): Promise<ApolloServer<GraphQLContext>> {
    const schema = await buildTesseraSchema();
    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      csrfPrevention: true,
      // The process owner (main.ts, worker.ts, tests) decides when to stop and closes the app.
      stopOnTerminationSignals: false,
      introspection: config.graphqlIntrospection,
      includeStacktraceInErrorResponses: false,
      formatError: createFormatError((error) => logger.error({ err: error }, 'GraphQL resolver failed')),
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        fastifyApolloDrainPlugin(http),
        queryLimitsPlugin({
          maxDepth: config.graphqlMaxDepth,
          maxAliases: config.graphqlMaxAliases,
          maxCost: config.graphqlMaxCost,
          defaultPageSize: Math.min(20, config.graphqlMaxPageSize),
          maxPageSize: config.graphqlMaxPageSize,
        }),
      ],
    });
    await apollo.start();
    return apollo;
  }
  // A worker process serves no HTTP: it builds neither the GraphQL server nor the library page.
  const apollo = options.worker === true ? undefined : await startApollo();

  let bootstrapKey: string | undefined;
  const bootstrapFile = join(config.dataPath, 'bootstrap.json');
  const readBootstrapKey = (): string | undefined => {
    if (!config.embedded.registry) return undefined;
    if (bootstrapKey !== undefined) return bootstrapKey;
    try {
      bootstrapKey = (JSON.parse(readFileSync(bootstrapFile, 'utf8')) as { apiKey?: string }).apiKey;
    } catch {
      return undefined;
    }
    return bootstrapKey;
  };

  const contextOf = async (request: FastifyRequest): Promise<GraphQLContext> => {
    const auth = await authenticator.authenticate(request.headers.authorization);
    if (auth.principal)
      request.log = request.log.child({
        actor: auth.principal.actorId,
        organization: auth.principal.organizationId,
      });
    return {
      auth,
      origin: { ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id },
      services,
      loaders: createLoaders(loaderSources),
      limits: {
        maxPageSize: config.graphqlMaxPageSize,
        transforms: transformLimits,
        widthPolicy: config.widthPolicy,
      },
    };
  };

  if (apollo) {
    await registerHealthRoutes(http, [
      { name: 'registry', check: () => registry.check() },
      { name: 'cache', check: () => state.check() },
      { name: 'storage', check: () => store.check() },
    ]);
    await registerGraphQLRoute(http, {
      apollo,
      context: contextOf,
      playground: new PlaygroundPages(readBootstrapKey),
      maxFileSize: config.maxUploadBytes,
      rateLimit: async (request) => {
        const keyId = /^Bearer\s+tsk_([0-9a-z]{16})_/i.exec(request.headers.authorization ?? '')?.[1];
        const decision = await limiter.enforce('graphql', keyId ? `key:${keyId}` : `ip:${request.ip}`);
        return decision ? rateLimitHeaders(decision) : {};
      },
    });
    await registerLibraryRoute(http, { bootstrapKey: readBootstrapKey });
    await registerImageRoute(http, { delivery, usage, metrics, limiter });
    http.get('/metrics', async (_request, reply) =>
      reply
        .header('content-type', metrics.registry.contentType)
        .header('cache-control', 'no-store')
        .send(await metrics.text()),
    );
    if (rawStore instanceof LocalObjectStore) {
      await registerUploadFormRoute(http, { store: rawStore, maxUploadBytes: config.maxUploadBytes });
    }
  }

  const maintenance = new Maintenance(db, store, logger, {
    variantRetentionDays: config.variantRetentionDays,
  });
  /** Eager presets of assets just ingested, on their way to the queue. */
  const eagerEnqueues = new Set<Promise<void>>();
  tenancy.onSpaceCreated((space, manager) => presets.createDefaults(space, DEFAULT_PRESETS, manager));
  ingest.onChange((change) => {
    if (change.kind === 'created')
      usage.recordUpload({ id: change.asset.spaceId, organizationId: change.asset.organizationId });
    const enqueuing: Promise<void> = eager
      .enqueueFor(change.asset)
      .then(
        () => undefined,
        (error: unknown) =>
          logger.error({ err: error, assetId: change.asset.id }, 'could not enqueue eager presets'),
      )
      .finally(() => eagerEnqueues.delete(enqueuing));
    eagerEnqueues.add(enqueuing);
  });
  const handlers = jobHandlers({ cleanup, eager, avif: avifRenders, maintenance });
  const runJobsHere =
    options.worker === true ||
    config.jobsInProcess === 'true' ||
    (config.jobsInProcess === 'auto' && queue.kind === 'memory');
  if (runJobsHere) await queue.startWorker(handlers, config.workerConcurrency);
  usage.start(config.usageFlushSeconds * 1000);
  const interval = config.maintenanceIntervalSeconds * 1000;
  const maintenanceTimer = setInterval(() => {
    queue
      .enqueue(MAINTENANCE_JOB, {}, { jobId: `maintenance.${Math.floor(Date.now() / interval)}` })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not enqueue maintenance'));
  }, interval);
  maintenanceTimer.unref();

  return {
    config,
    logger,
    queue,
    registry,
    state,
    store: rawStore,
    metrics,
    bootstrapFile,
    services,
    cleanup,
    http,
    async settle(timeoutMs = 30_000) {
      await Promise.all([...eagerEnqueues]);
      await variants.idle();
      await queue.drain(timeoutMs);
      await variants.idle();
    },
    async bootstrapIfEmpty() {
      if ((await tenancy.countOrganizations()) > 0) return undefined;
      const result = await bootstrapOrganization(db, services, config.baseUrl);
      mkdirSync(config.dataPath, { recursive: true });
      writeFileSync(bootstrapFile, `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600 });
      bootstrapKey = result.apiKey;
      return result;
    },
    async close() {
      await http.close();
      await apollo?.stop().catch(() => undefined);
      // Rendered variants on their way to storage get a moment to land (a lost one is made again).
      await Promise.race([variants.idle(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      clearInterval(maintenanceTimer);
      await usage.stop();
      await limiter.close().catch(() => undefined);
      await queue.close();
      await state.close();
      if (rawStore instanceof S3ObjectStore) rawStore.close();
      await registry.close();
    },
  };
}
