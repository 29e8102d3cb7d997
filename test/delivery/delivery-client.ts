/**
 * What a client of the image endpoint does, spelled out for the delivery suites: ask GraphQL for
 * URLs, fetch them as a browser would (no redirect following, real Accept headers), read the
 * answer with Sharp; and what a test counts afterwards: renders, variant rows, stored objects.
 * Also a second Tessera sharing the first one's registry, storage and Redis, as a second node.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import sharp from 'sharp';
import { createTessera, type Tessera } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixture, type FixtureName } from '../support/fixtures.js';
import { freePort, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import { rowId, uploadAsset, type AssetView } from '../ingestion/ingest-client.js';
import { signedImageUrl, type UrlSigner } from '../../src/signing/image-urls.js';

/** Accept headers of image requests, as the browsers send them (2024–2025 releases). */
export const ACCEPT = {
  chromium: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  safari17:
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  any: '*/*',
} as const;

/** One HTTP answer, body read whole. */
export interface Fetched {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** GET (or HEAD) without following redirects. */
export async function fetchImage(
  url: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
): Promise<Fetched> {
  const response = await fetch(url, { method, headers, redirect: 'manual' });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** Format, size and channels of image bytes, as Sharp reads them. */
export async function imageInfo(
  bytes: Buffer,
): Promise<{ format: string; width: number; height: number; channels: number; pages: number }> {
  const meta = await sharp(bytes).metadata();
  return {
    format: meta.format ?? '',
    width: meta.width ?? 0,
    height: meta.pageHeight ?? meta.height ?? 0,
    channels: meta.channels ?? 0,
    pages: meta.pages ?? 1,
  };
}

/** Sharp's format name of an output format (`jpg` → `jpeg`, `avif` → `heif`). */
export const sharpFormat = (format: string): string =>
  (({ jpg: 'jpeg', avif: 'heif' }) as Record<string, string>)[format] ?? format;

/** Media type of an output format. */
export const mimeOf = (format: string): string => `image/${format === 'jpg' ? 'jpeg' : format}`;

/** Checks an answer is a problem document with this status and code; returns it. */
export function expectProblem(
  answer: Fetched,
  status: number,
  code: string,
): { code: string; detail: string; token?: string; [k: string]: unknown } {
  const text = answer.body.toString('utf8');
  expect({ status: answer.status, type: answer.headers.get('content-type')?.split(';')[0] }).toEqual({
    status,
    type: 'application/problem+json',
  });
  const problem = JSON.parse(text) as { code: string; detail: string; status: number; token?: string };
  expect(problem.code).toBe(code);
  expect(problem.status).toBe(status);
  expect(typeof problem.detail).toBe('string');
  return problem;
}

/** The data of a GraphQL answer, or a thrown error naming its errors. */
export function dataOf<T>(res: GraphQLResponse<T>): T {
  if (!res.data || (res.errors?.length ?? 0) > 0)
    throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

/** Uploads a fixture (optionally under another name, so the same photograph can be two assets in one space). */
export async function upload(
  t: TestTessera,
  name: FixtureName,
  options: {
    spaceId?: string;
    access?: 'PUBLIC' | 'PRIVATE';
    bytes?: Buffer;
    filename?: string;
    tags?: string[];
  } = {},
  key?: string,
): Promise<AssetView> {
  const { bytes, filename, ...rest } = options;
  const res = await uploadAsset(t, { bytes: bytes ?? fixture(name), filename: filename ?? name }, rest, key);
  return dataOf(res).uploadAsset;
}

/** `Asset.url(...)`. */
export async function urlOf(
  t: TestTessera,
  assetId: string,
  args: { transform?: Record<string, unknown>; preset?: string; expiresIn?: number } = {},
  key?: string,
): Promise<string> {
  const res = await t.gql<{ asset: { url: string } }>(
    `query($id: ID!, $t: TransformInput, $p: String, $e: Int) { asset(id: $id) { url(transform: $t, preset: $p, expiresIn: $e) } }`,
    { id: assetId, t: args.transform ?? null, p: args.preset ?? null, e: args.expiresIn ?? null },
    key,
  );
  return dataOf(res).asset.url;
}

/** `Asset.image(...)`: URL and predicted size. */
export async function imageOf(
  t: TestTessera,
  assetId: string,
  args: { transform?: Record<string, unknown>; preset?: string } = {},
): Promise<{ url: string; width: number; height: number; format: string }> {
  const res = await t.gql<{
    asset: { image: { url: string; width: number; height: number; format: string } };
  }>(
    `query($id: ID!, $t: TransformInput, $p: String) { asset(id: $id) { image(transform: $t, preset: $p) { url width height format } } }`,
    { id: assetId, t: args.transform ?? null, p: args.preset ?? null },
  );
  return dataOf(res).asset.image;
}

/** What `transformAsset` returns. */
export interface VariantView {
  id: string;
  canonical: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  url: string;
}

/** `transformAsset(assetId, transform | preset)`. */
export function transformAsset(
  t: TestTessera,
  assetId: string,
  args: { transform?: Record<string, unknown>; preset?: string },
): Promise<GraphQLResponse<{ transformAsset: VariantView }>> {
  return t.gql(
    `mutation($id: ID!, $t: TransformInput, $p: String) { transformAsset(assetId: $id, transform: $t, preset: $p) { id canonical format width height bytes url } }`,
    { id: assetId, t: args.transform ?? null, p: args.preset ?? null },
  );
}

/** The path prefix of an asset's image URLs: `{base}/v1/{access}/{org}/{tenant}/{space}/img/{id}/v{version}/`. */
export const imageBase = (
  t: TestTessera,
  asset: Pick<AssetView, 'id' | 'version'>,
  access: 'pub' | 'priv' = 'pub',
  space = t.boot.space,
): string =>
  `${t.baseUrl}/v1/${access}/${t.boot.organization}/${t.boot.tenant}/${space}/img/${asset.id}/v${asset.version}/`;

/**
 * Waits until the background jobs (cleanup, presets rendered eagerly after an upload) are done,
 * so that a test counting renders counts its own.
 */
export async function settle(t: { tessera: Tessera }): Promise<void> {
  await t.tessera.settle(30_000);
}

/** Renders done so far by one Tessera process. */
export const rendersOf = (tessera: Tessera): number => tessera.services.variants.renders;

/** Variant rows of an asset (all versions), once the variants rendered so far are stored. */
export async function variantRows(
  t: TestTessera,
  assetId: string,
): Promise<{ canonical: string; format: string; storage_key: string; width: number; height: number }[]> {
  await t.tessera.services.variants.idle();
  return (await t.tessera.registry.dataSource.query(
    'SELECT canonical, format, storage_key, width, height FROM variants WHERE asset_id = $1 ORDER BY created_at, id',
    [rowId(assetId)],
  )) as { canonical: string; format: string; storage_key: string; width: number; height: number }[];
}

/** Object keys in storage under a prefix, once rendered variants are stored. */
export async function objectsUnder(tessera: Tessera, prefix: string): Promise<string[]> {
  await tessera.services.variants.idle();
  const keys: string[] = [];
  for await (const object of tessera.store.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Stored variants of an asset: `variants/{space}/{asset}/…`. */
export const variantObjects = (t: TestTessera, asset: Pick<AssetView, 'id' | 'space'>): Promise<string[]> =>
  objectsUnder(t.tessera, `variants/${rowId(asset.space.id)}/${rowId(asset.id)}/`);

/** A second node: another Tessera process on the same registry, object storage and Redis as `first`. */
export interface SecondNode {
  readonly tessera: Tessera;
  readonly baseUrl: string;
  /** `url` of the first node, addressed to this one. */
  here(url: string): string;
  close(): Promise<void>;
}

/**
 * Starts a second Tessera on the same registry (PostgreSQL, or the first node's embedded one over
 * its socket), the same bucket or directory of objects, and the same Redis and key prefix.
 */
export async function startSecondNode(
  first: TestTessera,
  extraEnv: Record<string, string> = {},
): Promise<SecondNode> {
  const config = first.tessera.config;
  const registryUrl = (first.tessera.registry.dataSource.options as { url?: string }).url;
  if (!registryUrl) throw new Error('the first node has no registry URL');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-node2-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: baseUrl,
    DATABASE_URL: registryUrl,
    DATABASE_POOL_SIZE: first.tessera.registry.kind === 'pglite' ? '1' : '10',
  };
  if (config.redisUrl) {
    env.REDIS_URL = config.redisUrl;
    env.REDIS_PREFIX = config.redisPrefix;
  }
  if (config.s3Bucket) {
    Object.assign(env, {
      S3_BUCKET: config.s3Bucket,
      S3_ENDPOINT: config.s3Endpoint ?? '',
      S3_REGION: config.s3Region,
      S3_ACCESS_KEY_ID: config.s3AccessKeyId ?? '',
      S3_SECRET_ACCESS_KEY: config.s3SecretAccessKey ?? '',
      S3_FORCE_PATH_STYLE: String(config.s3ForcePathStyle),
    });
  } else {
    throw new Error('a second node needs shared object storage (S3)');
  }
  const tessera = await createTessera(loadConfig({ ...env, ...extraEnv }));
  await tessera.http.listen({ host: '127.0.0.1', port });
  return {
    tessera,
    baseUrl,
    here: (url) => url.replace(first.baseUrl, baseUrl),
    async close() {
      await tessera.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A signing key of an organization (public id), read from the registry: the active one, or the one with `kid`. */
export async function signerOf(t: TestTessera, organizationId: string, kid?: string): Promise<UrlSigner> {
  // The first key of an organization is made when a URL first needs it.
  if (kid === undefined) await t.tessera.services.signingKeys.active(rowId(organizationId));
  const rows = (await t.tessera.registry.dataSource.query(
    kid === undefined
      ? "SELECT kid, secret FROM signing_keys WHERE organization_id = $1 AND status = 'active'"
      : 'SELECT kid, secret FROM signing_keys WHERE organization_id = $1 AND kid = $2',
    kid === undefined ? [rowId(organizationId)] : [rowId(organizationId), kid],
  )) as { kid: string; secret: Buffer }[];
  if (rows.length !== 1) throw new Error(`no signing key ${kid ?? 'active'} for ${organizationId}`);
  return { kid: rows[0]!.kid, secret: rows[0]!.secret };
}

/** A private image URL signed here, as a back end holding the key would sign it. */
export function signHere(
  t: TestTessera,
  asset: Pick<AssetView, 'id' | 'version'>,
  file: string,
  signer: UrlSigner,
  exp: number = Math.floor(Date.now() / 1000) + 600,
  space = t.boot.space,
): string {
  return signedImageUrl(
    t.baseUrl,
    { org: t.boot.organization, tenant: t.boot.tenant, space, assetId: asset.id, version: asset.version },
    file,
    signer,
    exp,
  );
}

/** A random lowercase slug. */
export const slug = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
