/**
 * Bad input, by every way in where it applies, on local disk and on S3: each refused with its
 * code, and afterwards the registry holds no new asset row and the store no new object.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { request } from 'node:http';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { emptyFile, htmlFile, pngBomb, svgFile, textFile, truncatedJpeg } from '../support/hostile-files.js';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import {
  completeUpload,
  createUpload,
  holdings,
  JOBS_OFF,
  importAsset,
  keepAliveAfterRefusal,
  loopbackServer,
  multipartBody,
  postForm,
  rowId,
  uploadAsset,
  uploadRow,
  type LoopbackServer,
  type PresignedUploadView,
} from './ingest-client.js';

const MAX_UPLOAD_BYTES = 100_000;
const UPLOAD_URL_SECONDS = 10;

interface BadFile {
  name: string;
  bytes: Buffer;
  filename: string;
  /** Media type a client claims for it (multipart part, createUpload, the import server's answer). */
  declared: string;
  code: string;
  reason: string;
  /** When an import is refused differently (e.g. by the server's Content-Type before any byte is read). */
  importRefusal?: { code: string; reason: string };
  /** When createUpload itself refuses it. */
  createRefusal?: string;
}

const badFiles: BadFile[] = [
  {
    name: 'an empty file',
    bytes: emptyFile(),
    filename: 'empty.jpg',
    declared: 'image/jpeg',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    reason: 'empty',
    createRefusal: 'BAD_USER_INPUT',
  },
  {
    name: 'a truncated JPEG',
    bytes: truncatedJpeg(),
    filename: 'cut.jpg',
    declared: 'image/jpeg',
    code: 'UNPROCESSABLE_IMAGE',
    reason: 'undecodable',
  },
  {
    name: 'a text file renamed .jpg',
    bytes: textFile(),
    filename: 'notes.jpg',
    declared: 'image/jpeg',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    reason: 'text',
  },
  {
    name: 'an SVG',
    bytes: svgFile(),
    filename: 'logo.svg',
    declared: 'image/svg+xml',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    reason: 'svg',
    createRefusal: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'an HTML page',
    bytes: htmlFile(),
    filename: 'index.html',
    declared: 'text/html',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    reason: 'html',
    importRefusal: { code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'content-type' },
    createRefusal: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a 50,000×50,000 PNG bomb',
    bytes: pngBomb(),
    filename: 'bomb.png',
    declared: 'image/png',
    code: 'LIMIT_EXCEEDED',
    reason: 'too-many-pixels',
  },
];

const reasonOf = (res: GraphQLResponse<unknown>): unknown =>
  (res.errors?.[0]?.extensions?.details as { reason?: unknown } | undefined)?.reason;

/** Decodes an S3 POST policy (`Policy` field, base64 JSON). */
function decodeS3Policy(fields: Record<string, string>): { expiration: string; conditions: unknown[] } {
  const encoded = Object.entries(fields).find(([name]) => name.toLowerCase() === 'policy')?.[1];
  if (encoded === undefined) throw new Error('no Policy field');
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
    expiration: string;
    conditions: unknown[];
  };
}

/**
 * Streams a GraphQL multipart upload of `totalBytes` of photograph bytes, as fast as the server
 * reads; reports how much had been handed to the socket when the answer came, and a second later.
 */
function streamHugeUpload(
  baseUrl: string,
  apiKey: string,
  spaceId: string,
  totalBytes: number,
): Promise<{
  status: number;
  body: string;
  sentAtAnswer: number;
  sentSecondLater: number;
  finishedSending: boolean;
}> {
  const boundary = `----tessera${Date.now()}`;
  const operations = JSON.stringify({
    query: 'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
    variables: { input: { spaceId, file: null } },
  });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const photo = fixture('rocket.jpg');
  const chunk = Buffer.alloc(256 * 1024);
  for (let offset = 0; offset < chunk.length; offset += photo.length) photo.copy(chunk, offset);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let finishedSending = false;
    const req = request(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'apollo-require-preflight': 'true',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + totalBytes + boundary.length + 8),
      },
    });
    req.on('error', () => undefined); // the server may drop the connection once it has answered
    // A server that never answers fails here, saying how far the upload got, not by the test's timeout.
    const silence = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer 30 s into the upload (${sent} of ${totalBytes} bytes sent)`));
    }, 30_000);
    req.on('response', (res) => {
      clearTimeout(silence);
      const sentAtAnswer = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => (body += text));
      res.on('error', reject);
      res.on('end', () => {
        setTimeout(() => {
          resolve({
            status: res.statusCode ?? 0,
            body,
            sentAtAnswer,
            sentSecondLater: sent,
            finishedSending,
          });
          req.destroy();
        }, 1000);
      });
    });
    req.write(head);
    const pump = (): void => {
      while (sent < totalBytes && !req.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, totalBytes - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) {
        req.end(`\r\n--${boundary}--\r\n`);
        finishedSending = true;
      }
    };
    pump();
  });
}

function badInput(storage: 'local' | 's3'): void {
  let t: TestTessera;
  let files: LoopbackServer;
  let expiring: PresignedUploadView;
  let endlessWritten = 0;
  let endlessClosed: Promise<void>;
  let small: Buffer;

  beforeAll(async () => {
    t = await startTestTessera({
      storage,
      env: {
        ...JOBS_OFF,
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
        UPLOAD_URL_SECONDS: String(UPLOAD_URL_SECONDS),
        IMPORT_ALLOW_NETWORKS: '127.0.0.1/32',
      },
    });
    small = await sharp(fixture('rocket.jpg')).resize({ width: 320 }).jpeg({ quality: 80 }).toBuffer();
    let closed: () => void = () => undefined;
    endlessClosed = new Promise((resolve) => (closed = resolve));
    files = await loopbackServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const bad = badFiles.find((f) => path === `/bad/${f.filename}`);
      if (bad) {
        res
          .writeHead(200, { 'content-type': bad.declared, 'content-length': String(bad.bytes.length) })
          .end(bad.bytes);
      } else if (path === '/big/rocket.jpg') {
        const photo = fixture('rocket.jpg');
        res
          .writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photo.length) })
          .end(photo);
      } else if (path === '/endless.jpg') {
        // No Content-Length: only counting can stop it. 50 MB of photograph bytes, if anyone reads them.
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const photo = fixture('rocket.jpg');
        res.on('close', closed);
        const pump = (): void => {
          while (endlessWritten < 50 * 1024 * 1024 && !res.destroyed) {
            endlessWritten += photo.length;
            if (!res.write(photo)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      } else {
        res.writeHead(404).end();
      }
    });
    const created = await createUpload(t, {
      filename: 'late.jpg',
      contentType: 'image/jpeg',
      bytes: small.length,
    });
    expiring = created.data!.createUpload;
  }, 120_000);
  afterAll(async () => {
    await files?.close();
    // A connection left half-read by a refused upload would hold the server's close until it times out.
    t?.tessera.http.server.closeAllConnections();
    await t?.close();
  });

  it.each(badFiles)('refuses $name by each way in with $code, storing nothing', async (bad) => {
    const before = await holdings(t);
    const file = { bytes: bad.bytes, filename: bad.filename, type: bad.declared };

    const uploaded = await uploadAsset(t, file);
    expect({ via: 'uploadAsset', codes: codes(uploaded), reason: reasonOf(uploaded) }).toEqual({
      via: 'uploadAsset',
      codes: [bad.code],
      reason: bad.reason,
    });
    expect(uploaded.data ?? null).toBeNull();
    expect(await holdings(t)).toEqual(before);

    const created = await createUpload(t, {
      filename: bad.filename,
      contentType: bad.declared,
      bytes: bad.bytes.length,
    });
    if (bad.createRefusal !== undefined) {
      expect({ via: 'createUpload', codes: codes(created) }).toEqual({
        via: 'createUpload',
        codes: [bad.createRefusal],
      });
    } else {
      const { uploadId, url, fields } = created.data!.createUpload;
      expect((await postForm(url, fields, file)).status).toBeLessThan(300);
      const completed = await completeUpload(t, uploadId);
      expect({ via: 'completeUpload', codes: codes(completed), reason: reasonOf(completed) }).toEqual({
        via: 'completeUpload',
        codes: [bad.code],
        reason: bad.reason,
      });
      expect(await uploadRow(t, rowId(uploadId))).toMatchObject({ status: 'failed', error_code: bad.code });
    }
    expect(await holdings(t)).toEqual(before);

    const imported = await importAsset(t, `${files.origin}/bad/${bad.filename}`);
    const expected = bad.importRefusal ?? { code: bad.code, reason: bad.reason };
    expect({ via: 'importAsset', codes: codes(imported), reason: reasonOf(imported) }).toEqual({
      via: 'importAsset',
      codes: [expected.code],
      reason: expected.reason,
    });
    expect(await holdings(t)).toEqual(before);
  });

  it('refuses a direct upload whose bytes lie about the declared type (declared image/png, sent JPEG): UNSUPPORTED_MEDIA_TYPE, staged file deleted', async () => {
    const before = await holdings(t);
    const created = (
      await createUpload(t, { filename: 'photo.png', contentType: 'image/png', bytes: small.length })
    ).data!.createUpload;
    expect(
      (
        await postForm(created.url, created.fields, {
          bytes: small,
          filename: 'photo.png',
          type: 'image/png',
        })
      ).status,
    ).toBeLessThan(300);
    const completed = await completeUpload(t, created.uploadId);
    expect(codes(completed)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(completed.errors?.[0]?.message).toMatch(/image\/jpeg.*image\/png/);
    expect(reasonOf(completed)).toBe('type-mismatch');
    expect(await uploadRow(t, rowId(created.uploadId))).toMatchObject({
      status: 'failed',
      error_code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await holdings(t)).toEqual(before);
  });

  it('refuses a file larger than the limit through uploadAsset (PAYLOAD_TOO_LARGE), whether it passes the limit before or after the resolver asks for it', async () => {
    const before = await holdings(t);
    const photo = fixture('rocket.jpg');
    expect(photo.length).toBeGreaterThan(MAX_UPLOAD_BYTES);
    // A key the server has not seen yet costs a registry round trip before the resolver runs:
    // by then the whole file has arrived and passed the limit.
    const fresh = await t.gql<{ createApiKey: { token: string } }>(
      `mutation { createApiKey(input: { name: "fresh", scopes: [ASSETS_WRITE] }) { token } }`,
    );
    const early = await uploadAsset(
      t,
      { bytes: photo, filename: 'rocket.jpg', type: 'image/jpeg' },
      {},
      fresh.data!.createApiKey.token,
    );
    expect(codes(early)).toEqual(['PAYLOAD_TOO_LARGE']);
    // A key seen before: the resolver is reading when the limit is passed.
    const late = await uploadAsset(t, { bytes: photo, filename: 'rocket.jpg', type: 'image/jpeg' });
    expect(codes(late)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(await holdings(t)).toEqual(before);
  });

  it('answers a 50 MB upload with PAYLOAD_TOO_LARGE while the client is still sending, and reads no further', async () => {
    const before = await holdings(t);
    const total = 50 * 1024 * 1024;
    const result = await streamHugeUpload(t.baseUrl, t.boot.apiKey, t.boot.spaceId, total);
    const body = JSON.parse(result.body) as GraphQLResponse<unknown>;
    expect(codes({ ...body, status: result.status })).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(result.sentAtAnswer).toBeLessThan(total / 4);
    expect(result.finishedSending).toBe(false);
    // A second after the answer the server still has not taken the rest.
    expect(result.sentSecondLater).toBeLessThan(total / 2);
    expect(await holdings(t)).toEqual(before);
  });

  it('still answers on the same connection after refusing an upload over the limit', async () => {
    const big = Buffer.concat(Array.from({ length: 10 }, () => fixture('rocket.jpg')));
    const upload = multipartBody(
      'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
      { input: { spaceId: t.boot.spaceId, file: null } },
      'variables.input.file',
      { bytes: big, filename: 'big.jpg', type: 'image/jpeg' },
    );
    const { refusal, next } = await keepAliveAfterRefusal(t, upload, t.boot.apiKey);
    expect(codes(refusal)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(next).not.toBe('no answer');
    expect(next).toMatchObject({ status: 200, data: { viewer: { __typename: 'Viewer' } } });
  });

  it('refuses a direct upload declared larger than the limit at createUpload (PAYLOAD_TOO_LARGE)', async () => {
    const res = await createUpload(t, {
      filename: 'big.jpg',
      contentType: 'image/jpeg',
      bytes: MAX_UPLOAD_BYTES + 1,
    });
    expect(codes(res)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(res.errors?.[0]?.extensions?.details).toMatchObject({ maxBytes: MAX_UPLOAD_BYTES });
  });

  it('refuses a presigned POST larger than its declared size, storing nothing', async () => {
    const before = await holdings(t);
    const created = (
      await createUpload(t, { filename: 'photo.jpg', contentType: 'image/jpeg', bytes: small.length - 100 })
    ).data!.createUpload;
    const post = await postForm(created.url, created.fields, {
      bytes: small,
      filename: 'photo.jpg',
      type: 'image/jpeg',
    });
    const completed = await completeUpload(t, created.uploadId);
    if (storage === 'local') {
      // Tessera's own form endpoint enforces the size range while the file streams.
      expect(post.status).toBe(413);
      expect(JSON.parse(post.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(codes(completed)).toEqual(['BAD_USER_INPUT']);
      expect(reasonOf(completed)).toBe('missing');
    } else {
      // The S3 API server of the tests enforces no policy: completeUpload checks the size itself.
      expect(post.status).toBeLessThan(300);
      expect(codes(completed)).toEqual(['PAYLOAD_TOO_LARGE']);
      expect(await uploadRow(t, rowId(created.uploadId))).toMatchObject({
        status: 'failed',
        error_code: 'PAYLOAD_TOO_LARGE',
      });
    }
    expect(await holdings(t)).toEqual(before);
  });

  it('refuses an import larger than the limit: declared by Content-Length, and counted on an endless body it stops reading', async () => {
    const before = await holdings(t);
    const declared = await importAsset(t, `${files.origin}/big/rocket.jpg`);
    expect(codes(declared)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(reasonOf(declared)).toBe('too-large');

    const endless = await importAsset(t, `${files.origin}/endless.jpg`);
    expect(codes(endless)).toEqual(['PAYLOAD_TOO_LARGE']);
    await endlessClosed;
    expect(endlessWritten).toBeLessThan(10 * 1024 * 1024);
    expect(await holdings(t)).toEqual(before);
  });

  if (storage === 'local') {
    it('refuses an upload form whose Content-Type field differs from the policy with 415, storing nothing', async () => {
      const before = await holdings(t);
      const created = (
        await createUpload(t, { filename: 'photo.png', contentType: 'image/png', bytes: small.length })
      ).data!.createUpload;
      const fields = Object.fromEntries(
        Object.entries(created.fields).map(([name, value]) => [
          name,
          name.toLowerCase() === 'content-type' ? 'image/jpeg' : value,
        ]),
      );
      expect(fields['Content-Type'] ?? fields['content-type']).toBe('image/jpeg');
      const post = await postForm(created.url, fields, {
        bytes: small,
        filename: 'photo.jpg',
        type: 'image/jpeg',
      });
      expect(post.status).toBe(415);
      expect(JSON.parse(post.body)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(await holdings(t)).toEqual(before);
    });
  } else {
    it('signs an S3 POST policy for exactly one key, the declared type and size, until expiresAt', async () => {
      const created = (
        await createUpload(t, { filename: 'photo.png', contentType: 'image/png', bytes: 4321 })
      ).data!.createUpload;
      const policy = decodeS3Policy(created.fields);
      expect(new Date(policy.expiration).toISOString()).toBe(new Date(created.expiresAt).toISOString());
      expect(Date.parse(policy.expiration) - Date.now()).toBeLessThanOrEqual(UPLOAD_URL_SECONDS * 1000);
      const row = await uploadRow(t, rowId(created.uploadId));
      expect(policy.conditions).toEqual(
        expect.arrayContaining([
          { bucket: t.tessera.config.s3Bucket },
          { key: row.storage_key },
          ['eq', '$Content-Type', 'image/png'],
          ['content-length-range', 1, 4321],
        ]),
      );
      expect(created.fields.key).toBe(row.storage_key);
    });
  }

  it('refuses a file that arrived long after its upload expired (a store that does not enforce the policy): BAD_USER_INPUT, deleted', async () => {
    const before = await holdings(t);
    const created = (
      await createUpload(t, { filename: 'photo.jpg', contentType: 'image/jpeg', bytes: small.length })
    ).data!.createUpload;
    expect(
      (
        await postForm(created.url, created.fields, {
          bytes: small,
          filename: 'photo.jpg',
          type: 'image/jpeg',
        })
      ).status,
    ).toBeLessThan(300);
    // As if the form had expired an hour before the file was written.
    await t.tessera.registry.dataSource.query(
      `UPDATE uploads SET expires_at = now() - interval '1 hour' WHERE id = $1`,
      [rowId(created.uploadId)],
    );
    const completed = await completeUpload(t, created.uploadId);
    expect(codes(completed)).toEqual(['BAD_USER_INPUT']);
    expect(reasonOf(completed)).toBe('expired');
    expect(await uploadRow(t, rowId(created.uploadId))).toMatchObject({ status: 'failed' });
    expect(await holdings(t)).toEqual(before);
  });

  it('refuses a presigned POST past its expiry, and completing it says it expired', async () => {
    const before = await holdings(t);
    const wait = Date.parse(expiring.expiresAt) + 1500 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (storage === 'local') {
      const post = await postForm(expiring.url, expiring.fields, {
        bytes: small,
        filename: 'late.jpg',
        type: 'image/jpeg',
      });
      expect(post.status).toBe(403);
      expect(JSON.parse(post.body)).toMatchObject({ code: 'FORBIDDEN' });
    }
    const completed = await completeUpload(t, expiring.uploadId);
    expect(codes(completed)).toEqual(['BAD_USER_INPUT']);
    expect(reasonOf(completed)).toBe('expired');
    expect(await holdings(t)).toEqual(before);
  }, 30_000);
}

describeWith([], 'ingestion: bad input is refused and leaves nothing, on local disk', () =>
  badInput('local'),
);
describeWith(['s3'], 'ingestion: bad input is refused and leaves nothing, on S3', () => badInput('s3'));
