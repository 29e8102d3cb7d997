/**
 * What a client of Tessera does to put files in, spelled out for tests: GraphQL multipart
 * uploads, presigned direct uploads (create → form POST → complete) and imports; and what a test
 * looks at afterwards: the registry's rows and every object in storage.
 */
import { createHash } from 'node:crypto';
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { parsePublicId } from '../../src/ids/index.js';
import type { GraphQLResponse, TestTessera } from '../support/tessera.js';

/** Every field of an Asset the ingestion suites check. */
export const ASSET_FIELDS = `
  id version filename mimeType format width height bytes sha256 hasAlpha animated frames colorSpace orientation
  access tags folder exif focalPoint { x y }
  placeholder { blurhash thumbhash dataUri dominantColor width height }
  createdAt updatedAt space { id }
`;

/** An Asset as the suites read it. */
export interface AssetView {
  id: string;
  version: number;
  filename: string;
  mimeType: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  hasAlpha: boolean;
  animated: boolean;
  frames: number;
  colorSpace: string | null;
  orientation: number;
  access: 'PUBLIC' | 'PRIVATE';
  tags: string[];
  folder: string;
  exif: Record<string, Record<string, unknown>> | null;
  focalPoint: { x: number; y: number } | null;
  placeholder: {
    blurhash: string;
    thumbhash: string;
    dataUri: string;
    dominantColor: string;
    width: number;
    height: number;
  };
  createdAt: string;
  updatedAt: string;
  space: { id: string };
}

/**
 * Environment for suites about ingestion alone: background jobs (eager preset renders, cleanup)
 * are queued but not run, so they neither load the machine nor change storage under a test.
 */
export const JOBS_OFF: Readonly<Record<string, string>> = { JOBS_IN_PROCESS: 'false' };

/** Lowercase hex SHA-256. */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A file as a browser would send it. */
export interface FilePart {
  readonly bytes: Buffer;
  readonly filename: string;
  /** Media type the client declares for the part. Default: application/octet-stream. */
  readonly type?: string;
}

/**
 * A GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec):
 * `operations`, `map`, then the file under field `0`, with the CSRF preflight header Apollo needs.
 * Each goes on a connection of its own, so that the unread rest of a refused upload cannot hold
 * up another request of the same test (`keepAliveAfterRefusal` checks that case by itself).
 * @param path where the file goes in the variables, e.g. `variables.input.file`.
 */
export async function graphqlUpload<T = Record<string, unknown>>(
  t: TestTessera,
  query: string,
  variables: Record<string, unknown>,
  path: string,
  file: FilePart,
  key: string = t.boot.apiKey,
): Promise<GraphQLResponse<T>> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables }));
  form.append('map', JSON.stringify({ 0: [path] }));
  form.append(
    '0',
    new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }),
    file.filename,
  );
  const response = await fetch(`${t.baseUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true', connection: 'close' },
    body: form,
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** Options of `uploadAsset` other than the file. */
export interface UploadOptions {
  spaceId?: string;
  filename?: string;
  access?: 'PUBLIC' | 'PRIVATE';
  tags?: string[];
  folder?: string;
}

/** `uploadAsset` through a multipart request. */
export function uploadAsset(
  t: TestTessera,
  file: FilePart,
  options: UploadOptions = {},
  key?: string,
): Promise<GraphQLResponse<{ uploadAsset: AssetView }>> {
  return graphqlUpload<{ uploadAsset: AssetView }>(
    t,
    `mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { ${ASSET_FIELDS} } }`,
    { input: { spaceId: options.spaceId ?? t.boot.spaceId, file: null, ...withoutSpace(options) } },
    'variables.input.file',
    file,
    key,
  );
}

const withoutSpace = ({ spaceId: _spaceId, ...rest }: UploadOptions): Omit<UploadOptions, 'spaceId'> => rest;

/** `replaceAsset` through a multipart request. */
export function replaceAsset(
  t: TestTessera,
  id: string,
  file: FilePart,
  key?: string,
): Promise<GraphQLResponse<{ replaceAsset: AssetView }>> {
  return graphqlUpload<{ replaceAsset: AssetView }>(
    t,
    `mutation($id: ID!, $file: Upload!) { replaceAsset(id: $id, file: $file) { ${ASSET_FIELDS} } }`,
    { id, file: null },
    'variables.file',
    file,
    key,
  );
}

/** What `createUpload` answers. */
export interface PresignedUploadView {
  uploadId: string;
  url: string;
  method: string;
  fields: Record<string, string>;
  expiresAt: string;
  maxBytes: number;
}

/** `createUpload`. */
export function createUpload(
  t: TestTessera,
  input: {
    filename: string;
    contentType: string;
    bytes: number;
    spaceId?: string;
    tags?: string[];
    folder?: string;
    access?: 'PUBLIC' | 'PRIVATE';
  },
  key?: string,
): Promise<GraphQLResponse<{ createUpload: PresignedUploadView }>> {
  return t.gql(
    `mutation($input: CreateUploadInput!) { createUpload(input: $input) { uploadId url method fields expiresAt maxBytes } }`,
    { input: { spaceId: t.boot.spaceId, ...input } },
    key,
  );
}

/** `completeUpload`. */
export function completeUpload(
  t: TestTessera,
  uploadId: string,
  key?: string,
): Promise<GraphQLResponse<{ completeUpload: AssetView }>> {
  return t.gql(
    `mutation($id: ID!) { completeUpload(uploadId: $id) { ${ASSET_FIELDS} } }`,
    { id: uploadId },
    key,
  );
}

/** `importAsset`. */
export function importAsset(
  t: TestTessera,
  url: string,
  options: { spaceId?: string; filename?: string; tags?: string[]; folder?: string } = {},
  key?: string,
): Promise<GraphQLResponse<{ importAsset: AssetView }>> {
  return t.gql(
    `mutation($input: ImportAssetInput!) { importAsset(input: $input) { ${ASSET_FIELDS} } }`,
    { input: { spaceId: options.spaceId ?? t.boot.spaceId, url, ...options } },
    key,
  );
}

/** The answer to a form POST. */
export interface FormAnswer {
  status: number;
  body: string;
}

/**
 * POSTs a `multipart/form-data` form the way a browser does: the presigned fields in order,
 * then the file under `file`, last.
 */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  file: FilePart,
): Promise<FormAnswer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append(
    'file',
    new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }),
    file.filename,
  );
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, body: await response.text() };
}

/** A whole direct upload: createUpload, the form POST, completeUpload. */
export async function directUpload(
  t: TestTessera,
  file: FilePart & { type: string },
  options: { spaceId?: string; tags?: string[]; folder?: string } = {},
): Promise<{
  post: FormAnswer;
  uploadId: string;
  completed: GraphQLResponse<{ completeUpload: AssetView }>;
}> {
  const created = await createUpload(t, {
    filename: file.filename,
    contentType: file.type,
    bytes: file.bytes.length,
    ...options,
  });
  if (!created.data) throw new Error(`createUpload failed: ${JSON.stringify(created.errors)}`);
  const { uploadId, url, fields } = created.data.createUpload;
  const post = await postForm(url, fields, file);
  return { post, uploadId, completed: await completeUpload(t, uploadId) };
}

/** What the registry and the store hold of originals and uploads. */
export interface Holdings {
  /** Asset rows (live and soft-deleted). */
  assets: {
    id: string;
    space_id: string;
    sha256: string;
    storage_key: string;
    version: number;
    deleted_at: Date | null;
  }[];
  /**
   * Every object key in the store but rendered variants, sorted. Variants belong to asset rows
   * (checked above) and are rendered in the background, so they come and go on their own time;
   * `variantsOf` looks at them.
   */
  objects: string[];
}

/** Every asset row (SQL on the registry) and every object but variants in the store (`list('')`). */
export async function holdings(t: TestTessera): Promise<Holdings> {
  const assets = (await t.tessera.registry.dataSource.query(
    'SELECT id, space_id, sha256, storage_key, version, deleted_at FROM assets ORDER BY id',
  )) as Holdings['assets'];
  const objects: string[] = [];
  for await (const object of t.tessera.store.list(''))
    if (!object.key.startsWith('variants/')) objects.push(object.key);
  return { assets, objects: objects.sort() };
}

/** An asset's variants: rows in the registry and objects in the store under its variants prefix. */
export async function variantsOf(
  t: TestTessera,
  assetId: string,
): Promise<{ rows: { storage_key: string; asset_version: number }[]; objects: string[] }> {
  const id = rowId(assetId);
  await t.tessera.services.variants.idle();
  const rows = (await t.tessera.registry.dataSource.query(
    'SELECT storage_key, asset_version FROM variants WHERE asset_id = $1 ORDER BY storage_key',
    [id],
  )) as {
    storage_key: string;
    asset_version: number;
  }[];
  const objects: string[] = [];
  for await (const object of t.tessera.store.list('variants/'))
    if (object.key.includes(`/${id}/`)) objects.push(object.key);
  return { rows, objects: objects.sort() };
}

/**
 * Waits until background work (eager renders, cleanup) has finished and nothing new was queued
 * for a moment: ingest queues eager renders just after it answers.
 * @throws Error when the queue does not settle within about 30 s.
 */
export async function settle(t: TestTessera): Promise<void> {
  for (let quiet = 0, round = 0; round < 300; round += 1) {
    await t.tessera.services.variants.idle();
    await t.tessera.cleanup.idle();
    await new Promise((resolve) => setTimeout(resolve, 25));
    const counts = await t.tessera.queue.counts();
    quiet = counts.waiting + counts.active + counts.delayed === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return;
  }
  throw new Error('background jobs did not settle');
}

/** The status of an upload row, by public id. */
export async function uploadRow(
  t: TestTessera,
  uploadRowId: string,
): Promise<{ status: string; error_code: string | null; storage_key: string }> {
  const rows = (await t.tessera.registry.dataSource.query(
    'SELECT status, error_code, storage_key FROM uploads WHERE id = $1',
    [uploadRowId],
  )) as {
    status: string;
    error_code: string | null;
    storage_key: string;
  }[];
  if (rows.length !== 1) throw new Error(`no upload row ${uploadRowId}`);
  return rows[0]!;
}

/** An HTTP server on a loopback address, for imports and webhooks. */
export interface LoopbackServer {
  readonly server: Server;
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts `handler` on `host` (default 127.0.0.1) at a free port, or on `port` when given. */
export async function loopbackServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  host = '127.0.0.1',
  port = 0,
): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    origin: `http://${hostPart}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A handler serving fixed bodies by path, 404 otherwise; every request's path is recorded. */
export function staticFiles(files: Record<string, { body: Buffer; type?: string }>, seen: string[] = []) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0]!;
    seen.push(path);
    const file = files[path];
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response
      .writeHead(200, {
        'content-type': file.type ?? 'application/octet-stream',
        'content-length': String(file.body.length),
      })
      .end(file.body);
  };
}

/** The row id inside a public id (`ast_…` → uuid), for SQL. */
export function rowId(publicId: string): string {
  const parsed = parsePublicId(publicId);
  if (!parsed) throw new Error(`not a public id: ${publicId}`);
  return parsed.uuid;
}

/** A new space in the first tenant; returns its public id. */
export async function createSpace(
  t: TestTessera,
  name: string,
  options: { keepGps?: boolean } = {},
  key?: string,
): Promise<string> {
  const res = await t.gql<{ createSpace: { id: string } }>(
    `mutation($input: CreateSpaceInput!) { createSpace(input: $input) { id } }`,
    { input: { tenantId: t.boot.tenantId, name, ...options } },
    key,
  );
  if (!res.data) throw new Error(`createSpace failed: ${JSON.stringify(res.errors)}`);
  return res.data.createSpace.id;
}

/** Objects under a space's originals. */
export const originalsOf = (objects: readonly string[], spaceId: string): string[] =>
  objects.filter((key) => key.startsWith(`originals/${rowId(spaceId)}/`));

/** The body and Content-Type of a GraphQL multipart request carrying one file at `path`. */
export function multipartBody(
  query: string,
  variables: Record<string, unknown>,
  path: string,
  file: FilePart,
): { body: Buffer; contentType: string } {
  const boundary = `----tessera-${createHash('sha256').update(file.bytes).digest('hex').slice(0, 16)}`;
  const part = (headers: string, content: string | Buffer) => [
    Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
    Buffer.from(content),
    Buffer.from('\r\n'),
  ];
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.concat([
      ...part('Content-Disposition: form-data; name="operations"', JSON.stringify({ query, variables })),
      ...part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: [path] })),
      ...part(
        `Content-Disposition: form-data; name="0"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}`,
        file.bytes,
      ),
      Buffer.from(`--${boundary}--\r\n`),
    ]),
  };
}

/**
 * Sends a refused multipart upload, then a plain query, both through one keep-alive connection
 * (as browsers and HTTP clients reuse them): what the second request got, or `'no answer'` when
 * none came within `waitMs`.
 */
export async function keepAliveAfterRefusal(
  t: TestTessera,
  upload: { body: Buffer; contentType: string },
  key: string,
  waitMs = 5000,
): Promise<{ refusal: GraphQLResponse<unknown>; next: GraphQLResponse<unknown> | 'no answer' }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (headers: Record<string, string>, body: Buffer) =>
    new Promise<GraphQLResponse<unknown>>((resolve, reject) => {
      const req = request(
        `${t.baseUrl}/graphql`,
        {
          method: 'POST',
          agent,
          headers: { ...headers, authorization: `Bearer ${key}`, 'content-length': String(body.length) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(JSON.parse(text) as object) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    const refusal = await post(
      { 'content-type': upload.contentType, 'apollo-require-preflight': 'true' },
      upload.body,
    );
    const next = await Promise.race([
      post(
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify({ query: '{ viewer { __typename } }' })),
      ),
      new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), waitMs).unref()),
    ]);
    return { refusal, next };
  } finally {
    agent.destroy();
  }
}
