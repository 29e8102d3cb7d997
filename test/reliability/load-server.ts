/**
 * A Tessera API node in a process of its own for load runs, on the run's real components: a fresh
 * PostgreSQL database, Redis under a prefix of its own, a new bucket on the S3 API server. Rate
 * limits are off (the load measures capacity, not the limits).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { createFreshDatabase, type FreshDatabase } from '../support/registry.js';
import { testServices } from '../support/services.js';
import { startTesseraProcess, workDirectory, type TesseraProcess } from './processes.js';

export interface LoadServer {
  readonly api: TesseraProcess;
  close(): Promise<void>;
}

export async function startLoadServer(env: Record<string, string> = {}): Promise<LoadServer> {
  const work = workDirectory('load');
  const database: FreshDatabase = await createFreshDatabase();
  const bucket = `tessera-load-${randomBytes(4).toString('hex')}`;
  const store = new S3ObjectStore({
    bucket,
    region: testServices.s3.region,
    endpoint: testServices.s3.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: testServices.s3.accessKeyId,
      secretAccessKey: testServices.s3.secretAccessKey,
    },
  });
  await store.ensureBucket();
  store.close();
  const api = await startTesseraProcess(work, {
    DATABASE_URL: database.url,
    REDIS_URL: testServices.redisUrl!,
    REDIS_PREFIX: `tessera-load-${randomBytes(4).toString('hex')}:`,
    S3_BUCKET: bucket,
    S3_ENDPOINT: testServices.s3.endpoint,
    S3_REGION: testServices.s3.region,
    S3_ACCESS_KEY_ID: testServices.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: testServices.s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    JOBS_IN_PROCESS: 'true',
    RATE_LIMIT_GRAPHQL_PER_MINUTE: '0',
    RATE_LIMIT_IMAGES_PER_MINUTE: '0',
    RATE_LIMIT_RENDERS_PER_MINUTE: '0',
    ...env,
  });
  return {
    api,
    async close() {
      await api.close();
      await database.drop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
