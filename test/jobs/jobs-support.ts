/**
 * What the background-job suites do as an operator would: start `npm run worker` processes (the
 * real entry, `src/worker.ts`) and the `tessera` CLI against a test Tessera's registry, Redis and
 * storage; read `Asset.processing`; list the bucket; wait for something to become true.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/index.js';
import { repoRoot } from '../support/fixtures.js';
import type { GraphQLResponse, TestTessera } from '../support/tessera.js';
import { graphqlUpload, type FilePart } from '../ingestion/ingest-client.js';

/** The command line of a TypeScript entry run from source, as the project's scripts do. */
const nodeArgs = (entry: string, args: readonly string[]): string[] => [
  '--no-warnings',
  '--import',
  '@swc-node/register/esm-register',
  join(repoRoot, 'src', entry),
  ...args,
];

/**
 * The environment another process needs to share `t`'s registry (PostgreSQL, or the embedded one
 * over its socket), Redis (same key prefix) and object storage, plus `extra`.
 */
export function sharedEnv(t: TestTessera, dataDir: string, extra: Record<string, string> = {}) {
  const config: Config = t.tessera.config;
  const registryUrl = (t.tessera.registry.dataSource.options as { url?: string }).url;
  if (!registryUrl) throw new Error('the test Tessera has no registry URL');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    PUBLIC_BASE_URL: config.baseUrl,
    DATABASE_URL: registryUrl,
    DATABASE_POOL_SIZE: t.tessera.registry.kind === 'pglite' ? '1' : '5',
  };
  if (config.redisUrl !== undefined) {
    env.REDIS_URL = config.redisUrl;
    env.REDIS_PREFIX = config.redisPrefix;
  }
  if (config.s3Bucket !== undefined) {
    Object.assign(env, {
      S3_BUCKET: config.s3Bucket,
      S3_ENDPOINT: config.s3Endpoint ?? '',
      S3_REGION: config.s3Region,
      S3_ACCESS_KEY_ID: config.s3AccessKeyId ?? '',
      S3_SECRET_ACCESS_KEY: config.s3SecretAccessKey ?? '',
      S3_FORCE_PATH_STYLE: String(config.s3ForcePathStyle),
    });
  }
  return { ...env, ...extra };
}

/** A running `npm run worker` process. */
export interface WorkerProcess {
  readonly pid: number;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then its exit code once it has stopped. */
  stop(): Promise<number | null>;
  /** SIGKILL: dies on the spot, whatever it was doing. */
  kill(): Promise<void>;
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/**
 * Starts `src/worker.ts` in a process of its own, sharing `t`'s registry, Redis and storage, and
 * resolves once it says it is running.
 * @throws Error when it exits or stays silent for 30 s.
 */
export async function startWorker(
  t: TestTessera,
  extra: Record<string, string> = {},
): Promise<WorkerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-worker-'));
  const child = spawn(process.execPath, nodeArgs('worker.ts', []), {
    cwd: repoRoot,
    env: sharedEnv(t, dataDir, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = exitOf(child).finally(() => rmSync(dataDir, { recursive: true, force: true }));
  const deadline = Date.now() + 30_000;
  while (!text.includes('Tessera worker running')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    output: () => text,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What a CLI run printed and how it ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tessera <args>` (`src/cli.ts`) against `t`'s registry and storage. */
export async function runCli(t: TestTessera, args: readonly string[]): Promise<CliRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  try {
    const child = spawn(process.execPath, nodeArgs('cli.ts', args), {
      cwd: repoRoot,
      env: sharedEnv(t, dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await exitOf(child);
    return { code, stdout, stderr };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Polls `probe` until `done` holds for its value, and returns that value.
 * @throws Error naming `what` and the last value after `timeoutMs`.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One eager preset of an asset, as `Asset.processing` reports it. */
export interface EagerView {
  status: 'PENDING' | 'DONE' | 'FAILED';
  preset: { slug: string };
  variant: { id: string; width: number; height: number; format: string; bytes: number } | null;
}

const EAGER_FIELDS = 'status preset { slug } variant { id width height format bytes }';

/** `Asset.processing`, sorted by preset slug. */
export async function processingOf(t: TestTessera, assetId: string): Promise<EagerView[]> {
  const res = await t.gql<{ asset: { processing: EagerView[] } | null }>(
    `query($id: ID!) { asset(id: $id) { processing { ${EAGER_FIELDS} } } }`,
    { id: assetId },
  );
  if (!res.data?.asset) throw new Error(`asset ${assetId}: ${JSON.stringify(res.errors)}`);
  return bySlug(res.data.asset.processing);
}

/** Statuses by preset slug, e.g. `{ large: 'DONE', medium: 'PENDING' }`. */
export const statuses = (views: readonly EagerView[]): Record<string, EagerView['status']> =>
  Object.fromEntries(views.map((v) => [v.preset.slug, v.status]));

const bySlug = (views: EagerView[]): EagerView[] =>
  [...views].sort((a, b) => a.preset.slug.localeCompare(b.preset.slug));

/** An uploaded asset with what `processing` said in the upload's own answer. */
export interface UploadedView {
  id: string;
  version: number;
  space: { id: string };
  processing: EagerView[];
}

/** `uploadAsset` (GraphQL multipart) asking for `processing` in the same answer. */
export async function uploadWithProcessing(
  t: TestTessera,
  file: FilePart,
  options: { spaceId?: string; tags?: string[] } = {},
): Promise<UploadedView> {
  const res: GraphQLResponse<{ uploadAsset: UploadedView }> = await graphqlUpload(
    t,
    `mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id version space { id } processing { ${EAGER_FIELDS} } } }`,
    {
      input: {
        spaceId: options.spaceId ?? t.boot.spaceId,
        file: null,
        ...(options.tags ? { tags: options.tags } : {}),
      },
    },
    'variables.input.file',
    file,
  );
  if (!res.data) throw new Error(`uploadAsset failed: ${JSON.stringify(res.errors)}`);
  const asset = res.data.uploadAsset;
  return { ...asset, processing: bySlug(asset.processing) };
}

/** Every object in the store (`list('')`), once rendered variants are stored: key → size in bytes. */
export async function bucketObjects(t: TestTessera): Promise<Map<string, number>> {
  await t.tessera.services.variants.idle();
  const objects = new Map<string, number>();
  for await (const object of t.tessera.store.list('')) objects.set(object.key, object.bytes);
  return objects;
}

/** Storage keys the registry refers to: live assets' originals, variants, pending uploads. */
export async function referencedKeys(t: TestTessera): Promise<{ originals: string[]; variants: string[] }> {
  const db = t.tessera.registry.dataSource;
  const originals = (
    (await db.query('SELECT DISTINCT storage_key FROM assets WHERE deleted_at IS NULL')) as {
      storage_key: string;
    }[]
  ).map((r) => r.storage_key);
  const variants = ((await db.query('SELECT storage_key FROM variants')) as { storage_key: string }[]).map(
    (r) => r.storage_key,
  );
  return { originals: originals.sort(), variants: variants.sort() };
}

/**
 * Makes `slug` the only eager preset of a space: the space's other presets stop rendering eagerly
 * and a new one with `transform` (and `matchTags`, if any) renders after each upload.
 * @returns the new preset's id.
 */
export async function onlyEagerPreset(
  t: TestTessera,
  spaceId: string,
  slug: string,
  transform: Record<string, unknown>,
  matchTags: string[] = [],
): Promise<string> {
  const list = await t.gql<{ presets: { id: string; autoGenerate: boolean }[] }>(
    'query($s: ID!) { presets(spaceId: $s) { id autoGenerate } }',
    { s: spaceId },
  );
  for (const preset of list.data?.presets ?? []) {
    if (!preset.autoGenerate) continue;
    const off = await t.gql(
      'mutation($id: ID!) { updatePreset(id: $id, input: { autoGenerate: false }) { id } }',
      {
        id: preset.id,
      },
    );
    if (off.errors) throw new Error(`updatePreset: ${JSON.stringify(off.errors)}`);
  }
  const created = await t.gql<{ createPreset: { id: string } }>(
    'mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }',
    { input: { spaceId, name: slug, slug, transform, autoGenerate: true, matchTags } },
  );
  if (!created.data) throw new Error(`createPreset: ${JSON.stringify(created.errors)}`);
  return created.data.createPreset.id;
}
