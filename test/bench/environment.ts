/**
 * The Tessera under test: its components (real PostgreSQL and Redis when DATABASE_URL and
 * REDIS_URL are set, a fresh database and key prefix of its own on them; else embedded PGlite and
 * in-process state), its environment, and Tessera itself as a child process running the built
 * server (`dist/src/main.js`), so that its memory and CPU are its own.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { repoRoot } from '../support/fixtures.js';
import type { TesseraEndpoint } from './client.js';
import { startServer, type ServerProcess } from './processes.js';

/** Which components Tessera runs on in this bench. */
export interface Components {
  readonly registry: 'postgres' | 'pglite';
  readonly cache: 'redis' | 'memory';
  readonly storage: 's3' | 'local';
  /** The environment every Tessera of this bench gets (before DATA_DIR, PORT and base URL). */
  readonly env: Readonly<Record<string, string>>;
  /** Drops the bench's database and Redis keys. */
  dispose(): Promise<void>;
}

/**
 * Rate limits high enough never to refuse the bench's traffic from one loopback address, while
 * their counters still run on every request as they do in production.
 */
const UNLIMITED = {
  RATE_LIMIT_IMAGES_PER_MINUTE: '100000000',
  RATE_LIMIT_RENDERS_PER_MINUTE: '10000000',
  RATE_LIMIT_GRAPHQL_PER_MINUTE: '10000000',
};

/**
 * Chooses and prepares the components from the bench's own environment.
 * @throws Error when DATABASE_URL is set but its server refuses to create a database.
 */
export async function prepareComponents(source: NodeJS.ProcessEnv = process.env): Promise<Components> {
  const tag = randomBytes(4).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    BOOTSTRAP: 'always',
    // eager preset renders run in the API process whatever the queue, so the bench can wait for them
    JOBS_IN_PROCESS: 'true',
    ...UNLIMITED,
  };
  for (const name of [
    'MAX_CONCURRENT_RENDERS',
    'VARIANT_CACHE_BYTES',
    'AVIF_EFFORT',
    'RENDER_MEMORY_BYTES',
    'S3_BUCKET',
    'S3_ENDPOINT',
    'S3_REGION',
    'S3_ACCESS_KEY_ID',
    'S3_SECRET_ACCESS_KEY',
    'S3_FORCE_PATH_STYLE',
    'LOG_LEVEL',
  ]) {
    const value = source[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  const cleanups: (() => Promise<void>)[] = [];

  const adminUrl = source.DATABASE_URL;
  if (adminUrl) {
    const name = `tessera_bench_${tag}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    });
  }

  const redisUrl = source.REDIS_URL;
  if (redisUrl) {
    const prefix = `tessera-bench-${tag}:`;
    env.REDIS_URL = redisUrl;
    env.REDIS_PREFIX = prefix;
    cleanups.push(async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        // twice: a queue client that was closing may still write its metadata key once
        for (let pass = 0; pass < 2; pass += 1) {
          if (pass > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            if (keys.length > 0) await redis.del(...keys);
            cursor = next;
          } while (cursor !== '0');
        }
      } finally {
        redis.disconnect();
      }
    });
  }

  return {
    registry: adminUrl ? 'postgres' : 'pglite',
    cache: redisUrl ? 'redis' : 'memory',
    storage: env.S3_BUCKET ? 's3' : 'local',
    env,
    async dispose() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
}

/** The environment of one Tessera of the bench. */
export function tesseraEnv(components: Components, dataDir: string, port: number): Record<string, string> {
  return {
    ...components.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  };
}

/** The first organization's names and admin key, as Tessera wrote them on first start. */
export function bootstrapOf(dataDir: string): { apiKey: string; spaceId: string; organization: string } {
  return JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8')) as {
    apiKey: string;
    spaceId: string;
    organization: string;
  };
}

/** What a server process inherits from the bench's environment: where programs and temporary files are, and Node's options. */
export function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The built server; `npm run bench` builds it first. */
export const BUILT_SERVER = join(repoRoot, 'dist', 'src', 'main.js');

/**
 * Starts Tessera as a child process (the built server) and waits for /healthz, and with
 * `WORKERS` in `env` until every worker listens.
 * @throws Error when the server is not built or does not start.
 */
export async function startTesseraProcess(
  components: Components,
  dataDir: string,
  port: number,
  { env = {}, name = 'tessera' }: { env?: Record<string, string>; name?: string } = {},
): Promise<{ server: ServerProcess; endpoint: TesseraEndpoint }> {
  if (!existsSync(BUILT_SERVER)) throw new Error(`${BUILT_SERVER} is missing: run npm run build first`);
  const logFile = join(dataDir, `${name}.log`);
  const server = await startServer({
    name,
    command: process.execPath,
    args: [BUILT_SERVER],
    cwd: repoRoot,
    env: { ...hostEnv(), ...tesseraEnv(components, dataDir, port), ...env },
    logFile,
    readyUrl: `http://127.0.0.1:${port}/healthz`,
  });
  if (env.WORKERS !== undefined) {
    const deadline = Date.now() + 60_000;
    while (!readFileSync(logFile, 'utf8').includes('worker processes on port')) {
      if (Date.now() > deadline || server.exitCode !== undefined)
        throw new Error(`${name}: its workers did not all start: see ${logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const boot = bootstrapOf(dataDir);
  return {
    server,
    endpoint: { baseUrl: `http://127.0.0.1:${port}`, apiKey: boot.apiKey, spaceId: boot.spaceId },
  };
}
