/**
 * Faults, with real processes killed and restarted by the test: a Tessera API node and a job worker
 * (each its own process) on a Redis, a PostgreSQL cluster and an S3 API server of their own. Redis
 * killed under load: images keep being served (registry and storage), GraphQL keeps working, Redis
 * is used again once it is back. PostgreSQL restarted: requests fail cleanly (503 problem documents,
 * SERVICE_UNAVAILABLE GraphQL errors), the process lives, everything works again within seconds.
 * S3 stopped: uploads fail with SERVICE_UNAVAILABLE and leave no row, cached variants are still
 * served, and so are new variants of an original the process holds in memory. The worker killed
 * in the middle of a render: no variant row without its object and no object without its row but
 * whole ones (fsck removes those), and a new worker carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Queue } from 'bullmq';
import pg from 'pg';
import sharp from 'sharp';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { fixture, type FixtureName } from '../support/fixtures.js';
import { loopbackServer, staticFiles, type LoopbackServer } from '../ingestion/ingest-client.js';
import {
  postgresBinDir,
  sleep,
  startPostgresCluster,
  startRedis,
  startS3,
  startTesseraProcess,
  startWorkerProcess,
  waitFor,
  workDirectory,
  type Child,
  type PostgresCluster,
  type RedisProcess,
  type S3Process,
  type TesseraProcess,
} from './processes.js';

const BUCKET = 'tessera-faults';
const REDIS_PREFIX = 'faults:';

/** One answer seen under load. */
interface Seen {
  readonly what: 'image' | 'graphql';
  readonly url: string;
  readonly at: number;
  readonly ms: number;
  readonly status: number;
  readonly type: string;
  readonly code?: string;
  readonly retryAfter: string | null;
  readonly layer: string | null;
  readonly error?: string;
}

/** What a request under load may answer: the image or data, or a clean refusal (see each scenario). */
async function request(what: Seen['what'], url: string, init: RequestInit = {}): Promise<Seen> {
  const started = Date.now();
  try {
    const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get('content-type')?.split(';')[0] ?? '';
    let code: string | undefined;
    if (type.includes('json')) {
      const parsed = JSON.parse(body.toString('utf8')) as {
        code?: string;
        errors?: { extensions?: { code?: string } }[];
      };
      code = parsed.code ?? parsed.errors?.[0]?.extensions?.code;
    }
    return {
      what,
      url,
      at: started,
      ms: Date.now() - started,
      status: response.status,
      type,
      code,
      retryAfter: response.headers.get('retry-after'),
      layer: response.headers.get('x-cache'),
    };
  } catch (error) {
    return {
      what,
      url,
      at: started,
      ms: Date.now() - started,
      status: 0,
      type: '',
      retryAfter: null,
      layer: null,
      error: String(error),
    };
  }
}

/** Runs `next()` from `concurrency` loops until `stop()`; returns everything seen. */
function load(next: (i: number) => Promise<Seen>, concurrency: number): { stop(): Promise<Seen[]> } {
  const seen: Seen[] = [];
  let running = true;
  let i = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) seen.push(await next(i++));
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

/** An answer that is neither served nor a clean refusal of the kind the scenario allows. */
const unexpected = (seen: readonly Seen[], clean: (s: Seen) => boolean): string[] =>
  seen
    .filter((s) => !clean(s))
    .map((s) => `${s.what} ${s.status} ${s.code ?? ''} ${s.error ?? ''} ${s.ms} ms ${s.url}`);

const missing: string[] = [];
if (!postgresBinDir()) missing.push('PostgreSQL server binaries (/usr/lib/postgresql/*/bin)');
if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) missing.push('redis-server');
if (missing.length > 0 && process.env.TESSERA_TEST_REQUIRE_ALL === '1')
  throw new Error(`faults: required programs missing: ${missing.join(', ')}`);
const describeFaults = missing.length === 0 ? describe : describe.skip;

describeFaults(
  `reliability: faults in Redis, PostgreSQL, S3 and the worker${missing.length ? ` [skipped: ${missing.join(', ')} missing]` : ''}`,
  () => {
    const work = workDirectory('faults');
    let postgres: PostgresCluster;
    let redis: RedisProcess;
    let s3: S3Process;
    let api: TesseraProcess;
    let worker: Child;
    let files: LoopbackServer;
    let databaseUrl: string;
    let store: S3ObjectStore;
    /** Image URLs: small variants (kept in process), large ones (too large for it: Redis, then registry and storage). */
    const urls = { small: [] as string[], large: [] as string[], original: '' };
    let assetId = '';

    const gql = <T>(query: string, variables: Record<string, unknown> = {}) => api.gql<T>(query, variables);
    const upload = async (name: FixtureName, filename = name) => {
      const form = new FormData();
      form.append(
        'operations',
        JSON.stringify({
          query: 'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
          variables: { input: { spaceId: api.boot.spaceId, file: null } },
        }),
      );
      form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
      form.append('0', new Blob([new Uint8Array(fixture(name))]), filename);
      const response = await fetch(`${api.baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.boot.apiKey}`, 'apollo-require-preflight': 'true' },
        body: form,
        signal: AbortSignal.timeout(60_000),
      });
      return {
        status: response.status,
        ...((await response.json()) as {
          data?: { uploadAsset: { id: string } } | null;
          errors?: { extensions?: { code?: string } }[];
        }),
      };
    };
    /** A query on the API's registry, on a connection of its own (the server restarts under the test). */
    const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(text, params)).rows as T[];
      } finally {
        await client.end();
      }
    };
    const assetRows = async () =>
      Number((await sql<{ n: string }>('SELECT count(*) AS n FROM assets'))[0]!.n);

    beforeAll(async () => {
      files = await loopbackServer(
        staticFiles({ '/coffee.png': { body: fixture('coffee.png'), type: 'image/png' } }),
      );
      [postgres, redis, s3] = await Promise.all([startPostgresCluster(), startRedis(work), startS3(work)]);
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      await admin.query('CREATE DATABASE tessera');
      await admin.end();
      databaseUrl = postgres.url.replace(/\/postgres$/, '/tessera');
      store = new S3ObjectStore({
        bucket: BUCKET,
        region: 'us-east-1',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      await store.ensureBucket();
      api = await startTesseraProcess(work, {
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '5',
        REDIS_URL: redis.url,
        REDIS_PREFIX,
        S3_BUCKET: BUCKET,
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        S3_FORCE_PATH_STYLE: 'true',
        JOBS_IN_PROCESS: 'false',
        // variants up to 50 KB stay in process; larger ones come from Redis, or the registry and storage
        VARIANT_CACHE_BYTES: String(200 * 1024),
        IMPORT_ALLOW_NETWORKS: '127.0.0.1/32',
        RENDER_TIMEOUT_SECONDS: '60',
        RATE_LIMIT_IMAGES_PER_MINUTE: '0',
        RATE_LIMIT_RENDERS_PER_MINUTE: '0',
        RATE_LIMIT_GRAPHQL_PER_MINUTE: '0',
      });
      worker = await startWorkerProcess(work, api.env);

      const uploaded = await upload('rocket.jpg');
      assetId = uploaded.data!.uploadAsset.id;
      const asked = await gql<{ asset: Record<string, string> }>(
        `query($id: ID!) { asset(id: $id) {
        original: url
        s1: url(transform: { width: 100, format: JPG }) s2: url(transform: { width: 120, format: WEBP })
        l1: url(transform: { width: 600, format: PNG }) l2: url(transform: { width: 620, format: PNG })
      } }`,
        { id: assetId },
      );
      const u = asked.data!.asset;
      urls.small.push(u.s1!, u.s2!);
      urls.large.push(u.l1!, u.l2!);
      urls.original = u.original!;
      for (const url of [...urls.small, ...urls.large])
        expect((await request('image', url)).status).toBe(200);
      // stored moments after their answers (the only asset yet): a variant's shared-cache entry
      // goes out before its object and row are written
      const stored = async () =>
        Number(
          (
            await sql<{ n: string }>('SELECT count(*) AS n FROM variants WHERE canonical = ANY($1)', [
              ['w_100-fmt_jpg', 'w_120-fmt_webp', 'w_600-fmt_png', 'w_620-fmt_png'],
            ])
          )[0]!.n,
        );
      for (let waited = 0; (await stored()) < 4; waited += 20) {
        if (waited > 10_000) throw new Error('the variants were not stored within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const layers = await Promise.all([...urls.small, ...urls.large].map((url) => request('image', url)));
      expect(layers.map((s) => s.layer)).toEqual(['memory', 'memory', 'redis', 'redis']);
    }, 180_000);

    afterAll(async () => {
      store?.close();
      await worker?.stop('SIGKILL');
      await api?.close();
      await Promise.all([redis?.close(), s3?.close(), postgres?.destroy(), files?.close()]);
      rmSync(work, { recursive: true, force: true });
    });

    it('keeps serving images and GraphQL while Redis is killed under load, and uses Redis again once it is back', async () => {
      const images = [...urls.small, ...urls.large];
      const traffic = load(
        (i) =>
          i % 5 === 4
            ? request('graphql', `${api.baseUrl}/graphql`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${api.boot.apiKey}` },
                body: JSON.stringify({ query: '{ spaces { id } viewer { kind } }' }),
              })
            : request('image', images[i % images.length]!),
        4,
      );
      await sleep(1000);
      const killedAt = Date.now();
      await redis.kill();
      await sleep(4000);
      await redis.restart();
      const backAt = Date.now();
      await sleep(1500);
      const seen = await traffic.stop();
      const during = seen.filter((s) => s.at > killedAt + 200 && s.at < backAt);
      expect(during.length).toBeGreaterThan(20);
      // everything was served, GraphQL included, and quickly: no request waited on the dead Redis
      expect(
        unexpected(seen, (s) => s.status === 200 && (s.what === 'image' || s.code === undefined)),
      ).toEqual([]);
      expect(Math.max(...during.map((s) => s.ms))).toBeLessThan(2000);
      // the large variants came from the registry and storage meanwhile
      expect(during.filter((s) => urls.large.includes(s.url)).map((s) => s.layer)).toContain('registry');
      // once Redis is back it is used again: a large variant is read back from it
      await waitFor(
        'Redis in use again',
        async () => (await request('image', urls.large[0]!)).layer === 'redis',
        15_000,
      );
      expect((await fetch(`${api.baseUrl}/readyz`)).status).toBe(200);
      expect(api.child.alive()).toBe(true);
    }, 60_000);

    it('fails cleanly while PostgreSQL restarts (503 problem documents, SERVICE_UNAVAILABLE) and recovers within seconds', async () => {
      let width = 200;
      const traffic = load((i) => {
        if (i % 3 === 0)
          return request('graphql', `${api.baseUrl}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${api.boot.apiKey}` },
            body: JSON.stringify({ query: '{ spaces { id name } }' }),
          });
        // cold renders need the registry; warm small ones are served from the process
        if (i % 3 === 1) return request('image', urls.small[0]!.replace('w_100', `w_${width++}`));
        return request('image', urls.small[1]!);
      }, 3);
      await sleep(800);
      const stoppedAt = Date.now();
      await postgres.stop();
      // longer than the 5 s an organization's quota is cached: the warm images below outlive it
      await sleep(6000);
      await postgres.start();
      const startedAt = Date.now();
      let recoveredAt = 0;
      await waitFor(
        'GraphQL and renders working again',
        async () => {
          const [query, render] = await Promise.all([
            gql<{ spaces: { id: string }[] }>('{ spaces { id } }'),
            request('image', urls.small[0]!.replace('w_100', `w_${width++}`)),
          ]);
          recoveredAt = Date.now();
          return query.data?.spaces.length === 1 && render.status === 200;
        },
        20_000,
      );
      const seen = await traffic.stop();
      // every answer: served, or a 503 problem document with Retry-After, or a GraphQL SERVICE_UNAVAILABLE error
      expect(
        unexpected(seen, (s) =>
          s.what === 'image'
            ? s.status === 200 ||
              (s.status === 503 &&
                s.type === 'application/problem+json' &&
                s.code === 'SERVICE_UNAVAILABLE' &&
                s.retryAfter !== null)
            : (s.status === 200 && s.code === undefined) ||
              ((s.status === 200 || s.status === 503) && s.code === 'SERVICE_UNAVAILABLE'),
        ),
      ).toEqual([]);
      const gap = seen.filter((s) => s.at > stoppedAt + 500 && s.at < startedAt);
      // the outage was seen (the test really stopped the registry), and warm images were served all through it
      expect(gap.filter((s) => s.code === 'SERVICE_UNAVAILABLE').length).toBeGreaterThan(0);
      const warm = gap.filter((s) => s.url === urls.small[1]);
      expect(warm.length).toBeGreaterThan(5);
      expect(warm.filter((s) => s.status !== 200).map((s) => `${s.status} ${s.code}`)).toEqual([]);
      expect(recoveredAt - startedAt).toBeLessThan(10_000);
      expect(api.child.alive()).toBe(true);
    }, 60_000);

    it('refuses uploads with SERVICE_UNAVAILABLE while S3 is down, leaving no rows, and still serves cached variants', async () => {
      // an image this API process has never read (its eager presets render in the worker)
      const unread = await upload('astronaut.png');
      const unreadUrl = (
        await gql<{ asset: { url: string } }>(
          `query($id: ID!) { asset(id: $id) { url(transform: { width: 99, format: JPG }) } }`,
          { id: unread.data!.uploadAsset.id },
        )
      ).data!.asset.url;
      const rowsBefore = await assetRows();
      // the large variants into Redis again (it came back empty), the small ones into the process
      // again (the renders of the test above took their place)
      for (const url of urls.large)
        await waitFor(`${url} in Redis`, async () => (await request('image', url)).layer === 'redis', 10_000);
      for (const url of urls.small)
        await waitFor(
          `${url} in process`,
          async () => (await request('image', url)).layer === 'memory',
          10_000,
        );
      await s3.kill();
      try {
        const uploaded = await upload('chelsea.png');
        expect({ status: uploaded.status, codes: uploaded.errors?.map((e) => e.extensions?.code) }).toEqual({
          status: 200,
          codes: ['SERVICE_UNAVAILABLE'],
        });
        const imported = await gql(
          `mutation($s: ID!, $u: String!) { importAsset(input: { spaceId: $s, url: $u }) { id } }`,
          { s: api.boot.spaceId, u: `${files.origin}/coffee.png` },
        );
        expect(imported.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
        const created = await gql<{ createUpload: { uploadId: string } }>(
          `mutation($s: ID!) { createUpload(input: { spaceId: $s, filename: "x.jpg", contentType: "image/jpeg", bytes: 1000 }) { uploadId } }`,
          { s: api.boot.spaceId },
        );
        const completed = await gql(`mutation($id: ID!) { completeUpload(uploadId: $id) { id } }`, {
          id: created.data!.createUpload.uploadId,
        });
        expect(completed.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
        expect(await assetRows()).toBe(rowsBefore);

        // what is cached is still served: small variants from the process, large ones from Redis
        for (const url of [...urls.small, ...urls.large]) {
          const answer = await request('image', url);
          expect({ url, status: answer.status, layer: answer.layer }).toEqual({
            url,
            status: 200,
            layer: urls.small.includes(url) ? 'memory' : 'redis',
          });
        }
        // a new variant of an image whose original this process holds is rendered and answered
        // (it cannot be stored: the next request renders it again)
        const fromHeld = await request('image', urls.small[0]!.replace('w_100', 'w_99'));
        expect({ status: fromHeld.status, layer: fromHeld.layer }).toEqual({ status: 200, layer: 'render' });
        // what needs storage is refused cleanly: the original, a variant of an image not held
        for (const url of [urls.original, unreadUrl]) {
          const answer = await request('image', url);
          expect({
            url,
            status: answer.status,
            type: answer.type,
            code: answer.code,
            retry: answer.retryAfter !== null,
          }).toEqual({
            url,
            status: 503,
            type: 'application/problem+json',
            code: 'SERVICE_UNAVAILABLE',
            retry: true,
          });
        }
      } finally {
        await s3.restart();
      }
      const again = await upload('chelsea.png');
      expect(again.errors).toBeUndefined();
      expect(await assetRows()).toBe(rowsBefore + 1);
      expect(api.child.alive()).toBe(true);
    }, 90_000);

    it('leaves no variant row without its object and no partial object when the worker is killed mid-render', async () => {
      // a slow eager preset: a large AVIF, seconds of work
      const preset = await gql<{ createPreset: { id: string } }>(
        `mutation($s: ID!) { createPreset(input: { spaceId: $s, name: "Slow", slug: "slow", autoGenerate: true, transform: { width: 2000, format: AVIF, quality: 80 } }) { id } }`,
        { s: api.boot.spaceId },
      );
      expect(preset.errors).toBeUndefined();
      // the worker lived through the faults above (its log's end says why when it did not)
      expect(worker.alive() ? 'alive' : `exited: ${worker.log(4000)}`).toBe('alive');
      const queue = new Queue('tessera', {
        connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null },
        prefix: `${REDIS_PREFIX}bull`,
      });
      try {
        const uploaded = await upload('Dragonfly_by_Bolly.jpg');
        const asset = uploaded.data!.uploadAsset.id;
        const row = (id: string) => id.slice(4).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
        const jobId = `eager.${row(asset)}.1.${row(preset.data!.createPreset.id)}`;
        await waitFor(
          'the slow render running in the worker',
          async () => (await queue.getJob(jobId))?.isActive() ?? false,
          60_000,
        );
        await sleep(1000);
        await worker.stop('SIGKILL');
        expect(await (await queue.getJob(jobId))!.isCompleted()).toBe(false);

        const variantRows = await sql<{ storage_key: string; format: string }>(
          'SELECT storage_key, format FROM variants WHERE asset_id = $1',
          [row(asset)],
        );
        const objects: string[] = [];
        for await (const object of store.list('variants/'))
          if (object.key.includes(`/${row(asset)}/`)) objects.push(object.key);
        // the render killed midway left nothing; every row has its object
        expect(variantRows.filter((r) => r.format === 'avif')).toEqual([]);
        expect(objects.filter((key) => key.endsWith('.avif'))).toEqual([]);
        expect(variantRows.map((r) => r.storage_key).filter((key) => !objects.includes(key))).toEqual([]);
        // A render that had written its object but not yet its row when the process died leaves a
        // whole object without a row (what `tessera fsck --repair` removes), never a partial one.
        for (const key of objects) {
          const bytes = await store.readBuffer(key);
          const meta = await sharp(bytes).metadata();
          expect([key, meta.format, (meta.width ?? 0) > 0]).toEqual([key, 'webp', true]);
          await sharp(bytes).toBuffer(); // decodes to the end
        }

        // a new worker takes over the queue: new jobs are done
        worker = await startWorkerProcess(work, api.env, 'worker-2');
        const next = await upload('coffee.png');
        const nextRow = row(next.data!.uploadAsset.id);
        await waitFor(
          'the new worker rendering eager presets',
          async () =>
            Number(
              (
                await sql<{ n: string }>('SELECT count(*) AS n FROM variants WHERE asset_id = $1', [nextRow])
              )[0]!.n,
            ) >= 3,
          60_000,
        );
      } finally {
        await queue.close();
      }
      expect(readFileSync(api.child.logFile, 'utf8')).not.toMatch(/"level":60/);
    }, 150_000);
  },
);
