/**
 * A whole Tessera for integration tests, built by the real composition root and listening on
 * loopback, on the real components chosen per suite (PostgreSQL or PGlite; S3 API server or local
 * disk; Redis or in-process).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/observability/logger.js';
import { createTessera, type Tessera } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import type { BootstrapResult } from '../../src/tenancy/bootstrap.js';
import {
  createFreshDatabase,
  primaryRegistryKind,
  type FreshDatabase,
  type RegistryKind,
} from './registry.js';
import { testServices } from './services.js';

export interface TestTesseraOptions {
  registry?: RegistryKind;
  storage?: 'local' | 's3';
  cache?: 'memory' | 'redis';
  env?: Record<string, string>;
  /** Receives the server's logs (default: none, LOG_LEVEL=silent). */
  logger?: Logger;
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: {
    message: string;
    extensions?: { code?: string; [k: string]: unknown };
    path?: (string | number)[];
  }[];
}

export interface TestTessera {
  readonly tessera: Tessera;
  readonly baseUrl: string;
  readonly dataDir: string;
  /** The first organization, tenant, space and admin key. */
  readonly boot: BootstrapResult;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Error codes of a GraphQL response. */
export const codes = (response: GraphQLResponse<unknown>): (string | undefined)[] =>
  (response.errors ?? []).map((e) => e.extensions?.code);

export async function startTestTessera(options: TestTesseraOptions = {}): Promise<TestTessera> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: baseUrl,
  };
  let database: FreshDatabase | undefined;
  if ((options.registry ?? primaryRegistryKind) === 'postgres') {
    database = await createFreshDatabase();
    env.DATABASE_URL = database.url;
  }
  if (options.storage === 's3') {
    env.S3_BUCKET = `tessera-${randomBytes(5).toString('hex')}`;
    env.S3_ENDPOINT = testServices.s3.endpoint;
    env.S3_REGION = testServices.s3.region;
    env.S3_ACCESS_KEY_ID = testServices.s3.accessKeyId;
    env.S3_SECRET_ACCESS_KEY = testServices.s3.secretAccessKey;
    env.S3_FORCE_PATH_STYLE = 'true';
  }
  if (options.cache === 'redis') {
    if (!testServices.redisUrl) throw new Error('no Redis in this run');
    env.REDIS_URL = testServices.redisUrl;
    env.REDIS_PREFIX = `tessera-test-${randomBytes(4).toString('hex')}:`;
  }
  Object.assign(env, options.env);
  const config = loadConfig(env);
  const tessera = await createTessera(config, options.logger ? { logger: options.logger } : {});
  if (tessera.store instanceof S3ObjectStore) await tessera.store.ensureBucket();
  const boot = await tessera.bootstrapIfEmpty();
  if (!boot) throw new Error('test registry was not empty');
  await tessera.http.listen({ host: '127.0.0.1', port });

  return {
    tessera,
    baseUrl,
    dataDir,
    boot,
    async gql<T>(query: string, variables: Record<string, unknown> = {}, key: string | null = boot.apiKey) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
      return { status: response.status, ...body };
    },
    async close() {
      await tessera.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
