/**
 * Configuration: the only reader of `process.env`. One table of variables, each with its parser,
 * default and description; `loadConfig` validates all of them and fails fast naming the variable.
 * The README's configuration reference is generated from the same table (`describeConfig`).
 */
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** One environment variable: how to read it, and what it means. */
interface VarSpec<T> {
  readonly env: string;
  readonly doc: string;
  /** Printed default for docs; `undefined` means "absent unless set". */
  readonly defaultDoc: string;
  readonly parse: (raw: string | undefined, env: Env) => T;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

const str = (env: string, doc: string, def: string): VarSpec<string> => ({
  env,
  doc,
  defaultDoc: def,
  parse: (raw) => (raw === undefined || raw === '' ? def : raw),
});

const optStr = (env: string, doc: string): VarSpec<string | undefined> => ({
  env,
  doc,
  defaultDoc: '',
  parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
});

const optUrl = (env: string, doc: string, protocols: readonly string[]): VarSpec<string | undefined> => ({
  env,
  doc,
  defaultDoc: '',
  parse: (raw) => {
    if (raw === undefined || raw === '') return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(env, `must be a URL (got "${raw}")`);
    }
    if (!protocols.includes(url.protocol)) {
      throw new ConfigError(env, `must use ${protocols.join(' or ')} (got "${url.protocol}")`);
    }
    return raw;
  },
});

const int = (env: string, doc: string, def: number, min: number, max: number): VarSpec<number> => ({
  env,
  doc,
  defaultDoc: String(def),
  parse: (raw) => {
    if (raw === undefined || raw === '') return def;
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(env, `must be an integer (got "${raw}")`);
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(env, `must be between ${min} and ${max} (got ${raw})`);
    }
    return n;
  },
});

const bool = (env: string, doc: string, def: boolean): VarSpec<boolean> => ({
  env,
  doc,
  defaultDoc: String(def),
  parse: (raw) => {
    if (raw === undefined || raw === '') return def;
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(env, `must be true or false (got "${raw}")`);
  },
});

const oneOf = <T extends string>(env: string, doc: string, values: readonly T[], def: T): VarSpec<T> => ({
  env,
  doc,
  defaultDoc: def,
  parse: (raw) => {
    if (raw === undefined || raw === '') return def;
    if (!(values as readonly string[]).includes(raw)) {
      throw new ConfigError(env, `must be one of ${values.join(', ')} (got "${raw}")`);
    }
    return raw as T;
  },
});

const list = (env: string, doc: string): VarSpec<readonly string[]> => ({
  env,
  doc,
  defaultDoc: '',
  parse: (raw) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
});

const MB = 1024 * 1024;

/** Every variable Tessera reads, in the order the configuration reference lists them. */
const spec = {
  nodeEnv: oneOf('NODE_ENV', 'Runtime mode.', ['development', 'production', 'test'], 'development'),
  host: str('HOST', 'Interface the HTTP server listens on.', '0.0.0.0'),
  port: int('PORT', 'HTTP port.', 4000, 0, 65535),
  workers: {
    env: 'WORKERS',
    doc: 'Server processes sharing the port, `auto` for one per CPU. Render slots and render memory are divided among them; more than one needs DATABASE_URL and REDIS_URL (an embedded registry and in-process state belong to one process).',
    defaultDoc: '1',
    parse: (raw) => {
      if (raw === undefined || raw === '') return 1;
      if (raw.trim() === 'auto') return availableParallelism();
      if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 256)
        throw new ConfigError('WORKERS', `must be auto or an integer between 1 and 256 (got "${raw}")`);
      return Number(raw);
    },
  } satisfies VarSpec<number>,
  dataDir: str(
    'DATA_DIR',
    'Directory for embedded data: PGlite registry, local objects, bootstrap.json.',
    './data',
  ),
  publicBaseUrl: optUrl(
    'PUBLIC_BASE_URL',
    'Origin that image URLs are built on (a CDN in front of Tessera). Default: http://localhost:$PORT.',
    ['http:', 'https:'],
  ),
  logLevel: oneOf(
    'LOG_LEVEL',
    'Log level.',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    'info',
  ),
  accessLog: oneOf(
    'ACCESS_LOG',
    'Which requests get a log line: `all`, or `misses` (all but images answered 200 or 304 from the in-process cache, which metrics still count).',
    ['all', 'misses'],
    'misses',
  ),
  bootstrap: oneOf(
    'BOOTSTRAP',
    'Create an organization, tenant, space and admin key on first start when the registry is empty: `auto` does so in embedded mode (no DATABASE_URL).',
    ['auto', 'always', 'never'],
    'auto',
  ),

  databaseUrl: optUrl(
    'DATABASE_URL',
    'PostgreSQL connection string. Absent: embedded PGlite under $DATA_DIR/registry.',
    ['postgres:', 'postgresql:'],
  ),
  databasePoolSize: int('DATABASE_POOL_SIZE', 'Connections in the registry pool.', 10, 1, 200),
  redisUrl: optUrl('REDIS_URL', 'Redis for cache, locks, rate limits and jobs. Absent: in-process.', [
    'redis:',
    'rediss:',
  ]),
  redisPrefix: str('REDIS_PREFIX', 'Prefix of every Redis key Tessera writes.', 'tessera:'),

  s3Bucket: optStr(
    'S3_BUCKET',
    'Bucket for originals and variants. Absent: local disk under $DATA_DIR/objects.',
  ),
  s3Endpoint: optUrl('S3_ENDPOINT', 'S3 API endpoint (MinIO, R2, ...). Absent: AWS.', ['http:', 'https:']),
  s3Region: str('S3_REGION', 'S3 region.', 'us-east-1'),
  s3AccessKeyId: optStr('S3_ACCESS_KEY_ID', 'S3 access key id (else the AWS default credential chain).'),
  s3SecretAccessKey: optStr('S3_SECRET_ACCESS_KEY', 'S3 secret access key.'),
  s3ForcePathStyle: bool(
    'S3_FORCE_PATH_STYLE',
    'Path-style bucket addressing (MinIO and most S3-compatible stores).',
    true,
  ),
  s3PublicEndpoint: optUrl(
    'S3_PUBLIC_ENDPOINT',
    'S3 endpoint as browsers reach it, for presigned direct uploads. Default: S3_ENDPOINT.',
    ['http:', 'https:'],
  ),

  jwtSecret: optStr('JWT_SECRET', 'HS256 secret for JWT bearer tokens (optional).'),
  jwtJwksUrl: optUrl('JWT_JWKS_URL', 'JWKS URL for JWT bearer tokens (optional).', ['http:', 'https:']),
  jwtIssuer: optStr('JWT_ISSUER', 'Required `iss` of JWT bearer tokens.'),
  jwtAudience: optStr('JWT_AUDIENCE', 'Required `aud` of JWT bearer tokens.'),

  maxUploadBytes: int('MAX_UPLOAD_BYTES', 'Largest original accepted, in bytes.', 25 * MB, 1, 2 ** 40),
  maxInputPixels: int(
    'MAX_INPUT_PIXELS',
    'Largest decoded image (width × height × frames), in pixels.',
    100_000_000,
    1,
    2 ** 40,
  ),
  maxOutputDimension: int(
    'MAX_OUTPUT_DIMENSION',
    'Largest width or height of a rendered variant, in pixels.',
    8192,
    16,
    65535,
  ),
  maxOperations: int('MAX_OPERATIONS', 'Most operations in one transform.', 24, 1, 100),
  maxConcurrentRenders: int(
    'MAX_CONCURRENT_RENDERS',
    'Renders running at once in the server (each of WORKERS processes runs an even share, at least one). Default: number of CPUs.',
    cpus().length,
    1,
    256,
  ),
  renderQueueWaitMs: int(
    'RENDER_QUEUE_WAIT_MS',
    'How long a render waits for a slot before 503.',
    10_000,
    0,
    600_000,
  ),
  maxFrames: int(
    'MAX_FRAMES',
    'Most frames an animated output (GIF, WebP) keeps; longer animations are refused (422).',
    500,
    1,
    100_000,
  ),
  renderMemoryBytes: int(
    'RENDER_MEMORY_BYTES',
    'Estimated decode and encode memory all renders of the server may hold at once (each of WORKERS processes holds an even share); renders wait for room, and one larger than a share is refused.',
    512 * MB,
    16 * MB,
    2 ** 40,
  ),
  renderTimeoutSeconds: int('RENDER_TIMEOUT_SECONDS', 'Time budget of one render.', 30, 1, 3600),
  widthPolicy: oneOf(
    'WIDTH_POLICY',
    "What an image URL whose w_ is off its space's width ladder gets, for spaces that do not say: any (served as asked), snap (301 to the next width up) or refuse (400). snap or refuse bound the variants per asset.",
    ['any', 'snap', 'refuse'] as const,
    'any',
  ),
  avifStandIn: bool(
    'AVIF_STAND_IN',
    'fmt_auto answers an AVIF browser at once with WebP (or JPEG) until the AVIF, rendered in the background, exists.',
    true,
  ),
  avifStandInMaxAge: int(
    'AVIF_STAND_IN_MAX_AGE',
    'Cache lifetime of a stand-in answer, seconds.',
    60,
    0,
    86_400,
  ),
  avifEffort: int('AVIF_EFFORT', 'AVIF encoder effort, 0 (fastest) to 9 (smallest files).', 4, 0, 9),
  sharedCacheMaxBytes: int(
    'SHARED_CACHE_MAX_BYTES',
    'Variants up to this size are also kept in Redis for other nodes.',
    1024 * 1024,
    0,
    64 * MB,
  ),
  sharedCacheTtlSeconds: int(
    'SHARED_CACHE_TTL_SECONDS',
    'How long Redis keeps a variant.',
    86_400,
    1,
    31_536_000,
  ),
  variantCacheBytes: int('VARIANT_CACHE_BYTES', 'In-process LRU of hot variant bytes.', 128 * MB, 0, 2 ** 40),
  originalCacheBytes: int(
    'ORIGINAL_CACHE_BYTES',
    'In-process LRU of originals read for renders, so that the next variants of the same image (srcset widths, eager presets) do not read it from storage again; 0 turns it off.',
    64 * MB,
    0,
    2 ** 40,
  ),
  signedUrlDefaultSeconds: int(
    'SIGNED_URL_DEFAULT_SECONDS',
    'Lifetime of signed URLs when the client does not ask.',
    3600,
    1,
    31_536_000,
  ),
  signedUrlMaxSeconds: int(
    'SIGNED_URL_MAX_SECONDS',
    'Longest lifetime a client may ask for a signed URL.',
    7 * 86_400,
    1,
    31_536_000,
  ),
  signingKeyGraceSeconds: int(
    'SIGNING_KEY_GRACE_SECONDS',
    'How long a rotated-out signing key keeps verifying.',
    7 * 86_400,
    0,
    31_536_000,
  ),
  uploadUrlSeconds: int('UPLOAD_URL_SECONDS', 'Lifetime of a presigned direct upload.', 900, 10, 86_400),
  importTimeoutMs: int('IMPORT_TIMEOUT_MS', 'Time limit of an import from URL.', 20_000, 100, 600_000),
  importAllowNetworks: list(
    'IMPORT_ALLOW_NETWORKS',
    'CIDRs importAsset may fetch despite the SSRF guard (e.g. an internal image host). Loopback, private, link-local and reserved ranges are refused otherwise.',
  ),
  purgeWebhookUrl: optUrl(
    'PURGE_WEBHOOK_URL',
    'URL that receives a signed JSON notice (asset id, URL prefixes) when an asset is deleted or replaced, for CDN purges.',
    ['http:', 'https:'],
  ),
  purgeWebhookSecret: optStr(
    'PURGE_WEBHOOK_SECRET',
    'HMAC-SHA256 secret of the purge webhook signature header.',
  ),
  jobsInProcess: oneOf(
    'JOBS_IN_PROCESS',
    'Run background jobs in the API process: `auto` does so for the embedded queue and leaves Redis queues to `npm run worker` processes.',
    ['auto', 'true', 'false'],
    'auto',
  ),
  workerConcurrency: int('WORKER_CONCURRENCY', 'Jobs one worker process runs at once.', 2, 1, 256),
  jobAttempts: int('JOB_ATTEMPTS', 'Tries of a job before it is dead-lettered.', 5, 1, 100),
  jobBackoffMs: int(
    'JOB_BACKOFF_MS',
    'Backoff before the second try; doubles each time.',
    1000,
    1,
    3_600_000,
  ),
  variantRetentionDays: int(
    'VARIANT_RETENTION_DAYS',
    'Variants not served for this many days are pruned (0 keeps them for ever).',
    90,
    0,
    36_500,
  ),
  maintenanceIntervalSeconds: int(
    'MAINTENANCE_INTERVAL_SECONDS',
    'How often pruning and upload housekeeping run (once per interval across all nodes).',
    3600,
    10,
    86_400 * 7,
  ),
  usageFlushSeconds: int(
    'USAGE_FLUSH_SECONDS',
    'How often counted usage is added to the registry.',
    15,
    1,
    3600,
  ),
  rateLimitGraphqlPerMinute: int(
    'RATE_LIMIT_GRAPHQL_PER_MINUTE',
    'GraphQL requests a minute per API key (or per client address without one); 0 turns it off.',
    1200,
    0,
    10_000_000,
  ),
  rateLimitImagesPerMinute: int(
    'RATE_LIMIT_IMAGES_PER_MINUTE',
    'Image requests a minute per client address (cache hits included); 0 turns it off.',
    12_000,
    0,
    100_000_000,
  ),
  rateLimitRendersPerMinute: int(
    'RATE_LIMIT_RENDERS_PER_MINUTE',
    'New renders a minute per client address and space (spaces may set their own); 0 turns it off.',
    1800,
    0,
    10_000_000,
  ),
  graphqlMaxDepth: int('GRAPHQL_MAX_DEPTH', 'Deepest selection a GraphQL operation may have.', 12, 2, 100),
  graphqlMaxAliases: int('GRAPHQL_MAX_ALIASES', 'Most aliased fields in one operation.', 30, 0, 10_000),
  graphqlMaxCost: int(
    'GRAPHQL_MAX_COST',
    'Largest estimated cost of one operation: each field counts 1, times the page sizes (`first`) of the connections around it.',
    50_000,
    10,
    100_000_000,
  ),
  graphqlMaxBodyBytes: int(
    'GRAPHQL_MAX_BODY_BYTES',
    'Largest JSON request body, bytes.',
    1024 * 1024,
    1024,
    64 * MB,
  ),
  graphqlMaxPageSize: int('GRAPHQL_MAX_PAGE_SIZE', 'Largest `first` of a connection.', 100, 1, 1000),
  graphqlIntrospection: bool(
    'GRAPHQL_INTROSPECTION',
    'Allow schema introspection (the playground needs it).',
    true,
  ),
  trustProxy: bool(
    'TRUST_PROXY',
    'Take the client address from X-Forwarded-For (only behind a proxy or CDN you control).',
    false,
  ),
  corsOrigins: list(
    'CORS_ORIGINS',
    'Comma-separated origins allowed to call the API from browsers (`*` for any).',
  ),
} satisfies Record<string, VarSpec<unknown>>;

type Spec = typeof spec;
type Parsed = { readonly [K in keyof Spec]: ReturnType<Spec[K]['parse']> };

/** The validated configuration, with derived values. */
export interface Config extends Parsed {
  /** True when no DATABASE_URL, REDIS_URL, S3_BUCKET is set for the given concern. */
  readonly embedded: { readonly registry: boolean; readonly cache: boolean; readonly storage: boolean };
  /** `publicBaseUrl` with its default applied, without a trailing slash. */
  readonly baseUrl: string;
  /** Absolute data directory. */
  readonly dataPath: string;
}

/**
 * Reads and validates the environment.
 * @throws ConfigError naming the first invalid variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const parsed = {} as Record<string, unknown>;
  for (const [key, s] of Object.entries(spec) as [string, VarSpec<unknown>][]) {
    parsed[key] = s.parse(env[s.env], env);
  }
  const p = parsed as Parsed;
  if ((p.s3AccessKeyId === undefined) !== (p.s3SecretAccessKey === undefined)) {
    throw new ConfigError('S3_SECRET_ACCESS_KEY', 'and S3_ACCESS_KEY_ID must be set together');
  }
  for (const cidr of p.importAllowNetworks) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr))
      throw new ConfigError('IMPORT_ALLOW_NETWORKS', `must list CIDRs such as 10.1.0.0/16 (got "${cidr}")`);
  }
  if (p.signedUrlDefaultSeconds > p.signedUrlMaxSeconds) {
    throw new ConfigError(
      'SIGNED_URL_DEFAULT_SECONDS',
      `must not exceed SIGNED_URL_MAX_SECONDS (${p.signedUrlMaxSeconds})`,
    );
  }
  if (p.workers > 1 && (p.databaseUrl === undefined || p.redisUrl === undefined)) {
    throw new ConfigError(
      'WORKERS',
      `above 1 needs DATABASE_URL and REDIS_URL: an embedded registry and in-process state belong to one process (got ${p.workers})`,
    );
  }
  const baseUrl = (p.publicBaseUrl ?? `http://localhost:${p.port}`).replace(/\/+$/, '');
  return {
    ...p,
    // what each process of the server runs and holds
    maxConcurrentRenders: Math.max(1, Math.floor(p.maxConcurrentRenders / p.workers)),
    renderMemoryBytes: Math.max(16 * MB, Math.floor(p.renderMemoryBytes / p.workers)),
    embedded: {
      registry: p.databaseUrl === undefined,
      cache: p.redisUrl === undefined,
      storage: p.s3Bucket === undefined,
    },
    baseUrl,
    dataPath: resolve(p.dataDir),
  };
}

/** The configuration reference: one row per variable, for docs. */
export function describeConfig(): { env: string; default: string; doc: string }[] {
  return Object.values(spec).map((s: VarSpec<unknown>) => ({
    env: s.env,
    default: s.defaultDoc,
    doc: s.doc,
  }));
}
