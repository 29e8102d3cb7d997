import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerUploadFormRoute } from '../../src/http/routes/upload-form.js';
import { LocalObjectStore } from '../../src/storage/local-store.js';
import { fixture } from '../support/fixtures.js';
import { chelsea, hubble, rocket } from './photographs.js';

const SECRET = 'upload-form-test-secret-0123456789abcdef';
const MAX_UPLOAD_BYTES = 1_000_000;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

interface Answer {
  status: number;
  contentType: string | null;
  etag: string | null;
  body: string;
  problem: { type: string; title: string; status: number; code: string; detail: string } | undefined;
}

/** POSTs a browser form: the fields in order, then the file (unless `fileFirst`). */
async function postForm(
  url: string,
  fields: Record<string, string>,
  file: Buffer | undefined,
  options: { fileFirst?: boolean; fileField?: string; fileType?: string } = {},
): Promise<Answer> {
  const form = new FormData();
  const appendFile = (): void => {
    if (file !== undefined)
      form.append(
        options.fileField ?? 'file',
        new Blob([new Uint8Array(file)], { type: options.fileType ?? 'image/jpeg' }),
        'photo.jpg',
      );
  };
  if (options.fileFirst === true) appendFile();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (options.fileFirst !== true) appendFile();
  const response = await fetch(url, { method: 'POST', body: form });
  const body = await response.text();
  const contentType = response.headers.get('content-type');
  return {
    status: response.status,
    contentType,
    etag: response.headers.get('etag'),
    body,
    problem: contentType?.startsWith('application/problem+json') === true ? JSON.parse(body) : undefined,
  };
}

describe('POST /uploads (signed upload form of the local store)', () => {
  let workspace: string;
  let root: string;
  let now: number;
  let store: LocalObjectStore;
  let app: FastifyInstance;
  let origin: string;

  const presign = (
    key: string,
    options: { maxBytes?: number; minBytes?: number; contentType?: string; expiresInSeconds?: number } = {},
  ) =>
    store.presignPost(key, {
      contentType: options.contentType ?? 'image/jpeg',
      maxBytes: options.maxBytes ?? 900_000,
      expiresInSeconds: options.expiresInSeconds ?? 300,
      ...(options.minBytes === undefined ? {} : { minBytes: options.minBytes }),
    });
  const newKey = (): string => `uploads/${randomUUID()}/photo.jpg`;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'tessera-upload-form-'));
    root = join(workspace, 'objects');
    now = Date.now();
    app = Fastify();
    // A sibling route, to show the form's multipart parser stays inside its own plugin.
    app.post('/echo', async (request) => ({ body: request.body ?? null }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    await app.close();

    store = new LocalObjectStore({
      root,
      uploadBaseUrl: origin,
      uploadSecret: SECRET,
      clock: () => new Date(now),
    });
    app = Fastify();
    app.post('/echo', async (request) => ({ body: request.body ?? null }));
    await registerUploadFormRoute(app, { store, maxUploadBytes: MAX_UPLOAD_BYTES });
    await app.listen({ port: Number(new URL(origin).port), host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('stores the photograph and answers 204, like S3', async () => {
    const key = newKey();
    const photo = rocket();
    const post = await presign(key);
    expect(post.url).toBe(`${origin}/uploads`);
    expect(Object.keys(post.fields)).toEqual(['key', 'Content-Type', 'policy', 'signature']);

    const answer = await postForm(post.url, post.fields, photo);
    expect(answer.status).toBe(204);
    expect((await store.readBuffer(key)).equals(photo)).toBe(true);
    const info = await store.stat(key);
    expect(info).toMatchObject({ bytes: photo.length, contentType: 'image/jpeg' });
    expect(answer.etag).toBe(`"${info?.etag}"`);
  });

  it('answers 201 with S3 XML when success_action_status asks for it', async () => {
    const key = newKey();
    const post = await presign(key);
    const answer = await postForm(post.url, { ...post.fields, success_action_status: '201' }, hubble());
    expect(answer.status).toBe(201);
    expect(answer.contentType).toMatch(/^application\/xml/);
    expect(answer.body).toContain(`<Key>${key}</Key>`);
    expect(answer.body).toMatch(/<ETag>"[0-9a-f]{32}"<\/ETag>/);
    expect((await store.readBuffer(key)).equals(hubble())).toBe(true);
  });

  it('refuses an expired form with 403 FORBIDDEN and stores nothing', async () => {
    const key = newKey();
    const post = await presign(key, { expiresInSeconds: 60 });
    now += 61_000;
    const answer = await postForm(post.url, post.fields, rocket());
    expect(answer.status).toBe(403);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.problem).toMatchObject({ status: 403, code: 'FORBIDDEN', title: 'Forbidden' });
    expect(answer.problem?.detail).toMatch(/expired/);
    expect(typeof answer.problem?.type).toBe('string');
    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses a tampered signature or policy with 403', async () => {
    const key = newKey();
    const post = await presign(key, { maxBytes: 100_000 });
    const signature = post.fields.signature ?? '';
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    const badSignature = await postForm(post.url, { ...post.fields, signature: flipped }, rocket());
    expect(badSignature.status).toBe(403);
    expect(badSignature.problem?.code).toBe('FORBIDDEN');

    // Raise the size limit inside the policy while keeping the old signature.
    const policy = JSON.parse(Buffer.from(post.fields.policy ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const raised = Buffer.from(JSON.stringify({ ...policy, maxBytes: 10_000_000 }), 'utf8').toString(
      'base64url',
    );
    const badPolicy = await postForm(post.url, { ...post.fields, policy: raised }, hubble());
    expect(badPolicy.status).toBe(403);
    expect(badPolicy.problem?.code).toBe('FORBIDDEN');
    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses a form whose key is not the signed one with 403, writing neither key', async () => {
    const key = newKey();
    const other = newKey();
    const post = await presign(key);
    const answer = await postForm(post.url, { ...post.fields, key: other }, rocket());
    expect(answer.status).toBe(403);
    expect(answer.problem?.code).toBe('FORBIDDEN');
    expect(await store.stat(key)).toBeUndefined();
    expect(await store.stat(other)).toBeUndefined();
  });

  it('refuses a Content-Type field other than the signed one with 415', async () => {
    const key = newKey();
    const post = await presign(key, { contentType: 'image/jpeg' });
    const answer = await postForm(post.url, { ...post.fields, 'Content-Type': 'image/png' }, chelsea(), {
      fileType: 'image/png',
    });
    expect(answer.status).toBe(415);
    expect(answer.problem).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses a file over the policy maximum with 413, leaving no file behind and the old object intact', async () => {
    const key = newKey();
    await store.write(key, rocket(), { contentType: 'image/jpeg' });
    const before = filesUnder(root);
    const post = await presign(key, { maxBytes: 200_000 });
    const answer = await postForm(post.url, post.fields, hubble());
    expect(answer.status).toBe(413);
    expect(answer.problem).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(filesUnder(root)).toEqual(before);
    expect((await store.readBuffer(key)).equals(rocket())).toBe(true);
  });

  it('caps every policy at maxUploadBytes', async () => {
    const key = newKey();
    const post = await presign(key, { maxBytes: 5_000_000 });
    const large = fixture('picosdeeuropa_by_Aitzol_Berasategi.jpg');
    expect(large.length).toBeGreaterThan(MAX_UPLOAD_BYTES);
    const answer = await postForm(post.url, post.fields, large);
    expect(answer.status).toBe(413);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('cuts off an oversized upload: answers 413 before the body is sent, closes the connection, keeps nothing', async () => {
    const key = newKey();
    const post = await presign(key, { maxBytes: 300_000 });
    const before = filesUnder(root);
    const photo = fixture('Dragonfly_by_Bolly.jpg');
    const copies = 40;
    const boundary = `----tessera${randomUUID().replaceAll('-', '')}`;
    const head = Buffer.from(
      Object.entries(post.fields)
        .map(
          ([name, value]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('') +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="dragonfly.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const total = head.length + photo.length * copies + tail.length;

    const outcome = await new Promise<{
      status: number;
      body: string;
      sentWhenAnswered: number;
      connection: string | undefined;
    }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest(`${origin}/uploads`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(total),
        },
      });
      req.on('response', (response) => {
        const sentWhenAnswered = sent;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            sentWhenAnswered,
            connection: response.headers.connection,
          }),
        );
      });
      req.on('error', (error) => {
        // Writing after the server closed is expected; only fail when no answer came at all.
        if (sent === 0) reject(error);
      });
      const pieces = [head, ...Array.from({ length: copies }, () => photo), tail];
      const writeNext = (): void => {
        while (pieces.length > 0 && !req.destroyed) {
          const piece = pieces.shift() as Buffer;
          sent += piece.length;
          if (!req.write(piece)) {
            req.once('drain', writeNext);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      writeNext();
    });

    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(outcome.connection).toBe('close');
    expect(outcome.sentWhenAnswered).toBeLessThan(total / 2);
    expect(filesUnder(root)).toEqual(before);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('leaves nothing behind when the browser disconnects midway through the file', async () => {
    const key = newKey();
    const post = await presign(key, { maxBytes: 900_000 });
    const before = filesUnder(root);
    const photo = hubble();
    const boundary = `----tessera${randomUUID().replaceAll('-', '')}`;
    const head = Buffer.from(
      Object.entries(post.fields)
        .map(
          ([name, value]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('') +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="hubble.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    );
    const req = httpRequest(`${origin}/uploads`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + photo.length + 100),
      },
    });
    req.on('error', () => undefined);
    req.write(head);
    req.write(photo.subarray(0, 300_000));
    // Let the server start writing the object, then vanish.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && filesUnder(root).length === before.length)
      await new Promise((r) => setTimeout(r, 10));
    expect(filesUnder(root).some((f) => f.includes('.~tmp-'))).toBe(true);
    req.destroy();

    while (Date.now() < deadline && filesUnder(root).length !== before.length)
      await new Promise((r) => setTimeout(r, 10));
    expect(filesUnder(root)).toEqual(before);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses a file under the policy minimum with 400', async () => {
    const key = newKey();
    const post = await presign(key, { minBytes: 200_000 });
    const answer = await postForm(post.url, post.fields, rocket());
    expect(answer.status).toBe(400);
    expect(answer.problem).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses forms that are not shaped like S3 forms with 400', async () => {
    const key = newKey();
    const post = await presign(key);
    const fileFirst = await postForm(post.url, post.fields, rocket(), { fileFirst: true });
    expect(fileFirst.status).toBe(400);
    expect(fileFirst.problem?.code).toBe('BAD_USER_INPUT');

    const noFile = await postForm(post.url, post.fields, undefined);
    expect(noFile.status).toBe(400);

    const wrongField = await postForm(post.url, post.fields, rocket(), { fileField: 'photo' });
    expect(wrongField.status).toBe(400);

    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('key', key);
    form.append('file', new Blob([new Uint8Array(rocket())], { type: 'image/jpeg' }), 'photo.jpg');
    const duplicated = await fetch(post.url, { method: 'POST', body: form });
    expect(duplicated.status).toBe(400);

    expect(await store.stat(key)).toBeUndefined();
  });

  it('refuses requests that are not forms with 415', async () => {
    const json = await fetch(`${origin}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"key":"a"}',
    });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const octets = await fetch(`${origin}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(rocket()),
    });
    expect(octets.status).toBe(415);
    expect(octets.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('keeps its multipart parser to itself', async () => {
    const form = new FormData();
    form.append('a', 'b');
    const sibling = await fetch(`${origin}/echo`, { method: 'POST', body: form });
    expect(sibling.status).toBe(415);
  });

  it('registers beside a server-wide multipart parser and leaves it in charge elsewhere', async () => {
    const other = Fastify();
    other.addContentTypeParser('multipart/form-data', (_request, payload, done) => {
      let bytes = 0;
      payload.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      payload.on('end', () => done(null, { bytes }));
    });
    other.post('/echo', async (request) => ({ body: request.body }));
    await registerUploadFormRoute(other, { store, maxUploadBytes: MAX_UPLOAD_BYTES });
    await other.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = other.server.address();
      const otherOrigin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
      const key = newKey();
      const post = await presign(key);
      const upload = await postForm(`${otherOrigin}/uploads`, post.fields, rocket());
      expect(upload.status).toBe(204);
      expect((await store.readBuffer(key)).equals(rocket())).toBe(true);

      const form = new FormData();
      form.append('note', 'hello');
      const request = new Request(`${otherOrigin}/echo`, { method: 'POST', body: form });
      const payload = new Uint8Array(await request.arrayBuffer());
      const echo = await fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': request.headers.get('content-type') ?? '' },
        body: payload,
      });
      expect(await echo.json()).toEqual({ body: { bytes: payload.length } });
    } finally {
      await other.close();
    }
  });
});
