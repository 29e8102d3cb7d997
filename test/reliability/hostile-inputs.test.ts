/**
 * The hostile input corpus through every way in — GraphQL multipart upload, presigned direct upload
 * then completeUpload, import from a URL — and, for what is accepted, through rendering. Every
 * refusal is a 4xx with a clear code and leaves no asset row and no object; what is accepted is
 * accepted by all three ways alike and renders to clean images (no payload, no metadata); nothing
 * answers 5xx, and the server still answers /healthz and /readyz afterwards. Each file goes into a
 * space of its own, so what it left behind is counted exactly.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { httpStatusOf, type ErrorCode } from '../../src/errors/index.js';
import { repoRoot } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import {
  completeUpload,
  createSpace,
  createUpload,
  importAsset,
  loopbackServer,
  postForm,
  rowId,
  uploadAsset,
  type AssetView,
  type LoopbackServer,
} from '../ingestion/ingest-client.js';
import { buildHostileCorpus, writeHostileCorpus, type HostileFile } from './hostile-corpus.js';

const MAX_FRAMES = 500;
const corpus = await buildHostileCorpus({ maxFrames: MAX_FRAMES });
const artifacts = join(repoRoot, 'test', '.artifacts', 'hostile-corpus');

/** What one way in answered. */
interface Answer {
  readonly via: 'uploadAsset' | 'createUpload' | 'completeUpload' | 'importAsset';
  readonly status: number;
  readonly asset?: AssetView;
  readonly code?: string;
  readonly reason?: unknown;
  readonly message?: string;
}

const answerOf = (via: Answer['via'], res: GraphQLResponse<Record<string, AssetView>>): Answer => {
  const asset = res.data ? Object.values(res.data)[0] : undefined;
  const error = res.errors?.[0];
  return {
    via,
    status: res.status,
    ...(asset ? { asset } : {}),
    ...(error
      ? {
          code: error.extensions?.code,
          reason: (error.extensions?.details as { reason?: unknown } | undefined)?.reason,
          message: error.message,
        }
      : {}),
  };
};

/** A refusal the contract allows: one error, a code whose status is 4xx, an HTTP status below 500. */
function expectCleanRefusal(answer: Answer): void {
  expect({ via: answer.via, status: answer.status < 500, asset: answer.asset }).toEqual({
    via: answer.via,
    status: true,
    asset: undefined,
  });
  const status = httpStatusOf[answer.code as ErrorCode];
  expect({ via: answer.via, code: answer.code, is4xx: status >= 400 && status < 500 }).toEqual({
    via: answer.via,
    code: answer.code,
    is4xx: true,
  });
}

/** Payloads a polyglot carried: none may come out of a render. */
const PAYLOAD_MARKERS = ['PK\u0003\u0004', '<script', '<?php', 'alert(', '<html', '<svg'];

interface Row {
  name: string;
  kind: string;
  answers: string;
  renders: string;
}

describeWith(['s3'], 'reliability: the hostile input corpus, by every way in and through rendering', () => {
  let t: TestTessera;
  let files: LoopbackServer;
  const rows: Row[] = [];

  beforeAll(async () => {
    writeHostileCorpus(artifacts, corpus);
    files = await loopbackServer((request, response) => {
      const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
      const file = corpus.find((f) => path === `/corpus/${f.name}/${f.filename}`);
      if (!file) {
        response.writeHead(404).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': file.declared, 'content-length': String(file.bytes.length) })
        .end(file.bytes);
    });
    t = await startTestTessera({
      storage: 's3',
      env: {
        IMPORT_ALLOW_NETWORKS: '127.0.0.1/32',
        MAX_FRAMES: String(MAX_FRAMES),
        RATE_LIMIT_GRAPHQL_PER_MINUTE: '0',
      },
    });
  }, 120_000);

  afterAll(async () => {
    writeFileSync(
      join(artifacts, 'results.md'),
      [
        '| file | kind | upload / direct / import | renders |',
        '| --- | --- | --- | --- |',
        ...corpus
          .map((file) => rows.find((r) => r.name === file.name))
          .filter((r) => r !== undefined)
          .map((r) => `| ${r.name} | ${r.kind} | ${r.answers} | ${r.renders} |`),
        '',
      ].join('\n'),
    );
    await files?.close();
    t?.tessera.http.server.closeAllConnections();
    await t?.close();
  });

  /** Asset rows and objects (originals and staged uploads) of one space. */
  async function leftIn(spaceId: string): Promise<{ assets: string[]; objects: string[] }> {
    const space = rowId(spaceId);
    const assets = (
      (await t.tessera.registry.dataSource.query('SELECT id FROM assets WHERE space_id = $1', [space])) as {
        id: string;
      }[]
    ).map((r) => r.id);
    const objects: string[] = [];
    for (const prefix of [`originals/${space}/`, `uploads/${space}/`])
      for await (const object of t.tessera.store.list(prefix)) objects.push(object.key);
    return { assets, objects };
  }

  /** The three ways in, each answered. */
  async function throughEveryWayIn(file: HostileFile, spaceId: string): Promise<Answer[]> {
    const part = { bytes: file.bytes, filename: file.filename, type: file.declared };
    const answers: Answer[] = [answerOf('uploadAsset', await uploadAsset(t, part, { spaceId }))];
    const created = await createUpload(t, {
      spaceId,
      filename: file.filename,
      contentType: file.declared,
      bytes: file.bytes.length,
    });
    if (!created.data) {
      answers.push(answerOf('createUpload', { ...created, data: null }));
    } else {
      const { uploadId, url, fields } = created.data.createUpload;
      const post = await postForm(url, fields, part);
      expect({ via: 'form POST', status: post.status < 300 }).toEqual({ via: 'form POST', status: true });
      answers.push(answerOf('completeUpload', await completeUpload(t, uploadId)));
    }
    answers.push(
      answerOf(
        'importAsset',
        await importAsset(t, `${files.origin}/corpus/${file.name}/${encodeURIComponent(file.filename)}`, {
          spaceId,
        }),
      ),
    );
    return answers;
  }

  /** GETs an image URL as a browser does; returns what came back. */
  async function get(url: string): Promise<{ status: number; type: string; body: Buffer; headers: Headers }> {
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'image/*' } });
    return {
      status: response.status,
      type: response.headers.get('content-type')?.split(';')[0] ?? '',
      body: Buffer.from(await response.arrayBuffer()),
      headers: response.headers,
    };
  }

  /** Renders an accepted asset as a page would; checks each answer; returns a summary. */
  async function renderAccepted(file: HostileFile, asset: AssetView): Promise<string> {
    const summary: string[] = [];
    const urls = await t.gql<{
      asset: { original: string; jpg: string; webp: string; png: string; exif: unknown };
    }>(
      `query($id: ID!) { asset(id: $id) {
        original: url
        jpg: url(transform: { width: 120, format: JPG })
        webp: url(transform: { width: 120, format: WEBP })
        png: url(transform: { width: 64, height: 64, fit: COVER, format: PNG })
        exif
      } }`,
      { id: asset.id },
    );
    expect(urls.errors).toBeUndefined();
    const { original, exif, ...variants } = urls.data!.asset;

    // EXIF is kept bounded, whatever the file carried
    const exifJson = JSON.stringify(exif ?? null);
    expect(exifJson.length).toBeLessThan(64 * 1024);
    for (const group of Object.values((exif ?? {}) as Record<string, Record<string, unknown>>))
      for (const value of Object.values(group))
        if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(1024);

    const first = await get(original);
    expect({ original: first.status, type: first.type }).toEqual({ original: 200, type: asset.mimeType });
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    summary.push(`original ${first.status}`);

    for (const [format, url] of Object.entries(variants)) {
      const answer = await get(url);
      const animatedOverBudget = file.frames !== undefined && file.frames > MAX_FRAMES && format === 'webp';
      if (animatedOverBudget) {
        // the frame budget: a clear 422, and the still formats still render the first frame
        expect({ format, status: answer.status, type: answer.type }).toEqual({
          format,
          status: 422,
          type: 'application/problem+json',
        });
        expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ code: 'LIMIT_EXCEEDED' });
        summary.push(`${format} 422 LIMIT_EXCEEDED`);
        continue;
      }
      expect({ format, status: answer.status, type: answer.type }).toEqual({
        format,
        status: 200,
        type: `image/${format === 'jpg' ? 'jpeg' : format}`,
      });
      const meta = await sharp(answer.body).metadata();
      expect(meta.format).toBe(format === 'jpg' ? 'jpeg' : format);
      expect(meta.width).toBeLessThanOrEqual(120);
      expect({ exif: meta.exif, icc: meta.icc, xmp: meta.xmp }).toEqual({
        exif: undefined,
        icc: undefined,
        xmp: undefined,
      });
      const text = answer.body.toString('latin1');
      for (const marker of PAYLOAD_MARKERS)
        expect({ format, marker, found: text.includes(marker) }).toEqual({
          format,
          marker,
          found: false,
        });
      summary.push(`${format} 200`);
    }
    return summary.join(', ');
  }

  it.concurrent.each(corpus.map((file) => [file.name, file] as const))(
    '%s: refused with a 4xx code or accepted alike by every way in, never a 5xx, nothing left of a refusal',
    async (_name, file) => {
      const spaceId = await createSpace(t, `hostile ${file.name}`);
      const answers = await throughEveryWayIn(file, spaceId);
      const accepted = answers.filter((a) => a.asset !== undefined);
      for (const answer of answers)
        expect({ via: answer.via, status5xx: answer.status >= 500 }).toEqual({
          via: answer.via,
          status5xx: false,
        });
      for (const answer of answers) expect(answer.code).not.toBe('INTERNAL_SERVER_ERROR');

      const expected =
        file.outcome === 'either' ? (accepted.length > 0 ? 'accepted' : 'refused') : file.outcome;
      let renders = '—';
      if (expected === 'refused') {
        for (const answer of answers) {
          expectCleanRefusal(answer);
          // a file refused by the declared type before any byte is sent may carry another 4xx code
          if (answer.via !== 'createUpload')
            expect({ via: answer.via, code: answer.code, allowed: file.codes }).toEqual({
              via: answer.via,
              code: expect.stringMatching(new RegExp(`^(${file.codes.join('|')})$`)),
              allowed: file.codes,
            });
        }
        expect(await leftIn(spaceId)).toEqual({ assets: [], objects: [] });
      } else {
        // one image, one asset: every way in answers the same asset (same bytes, same space)
        expect(answers.map((a) => ({ via: a.via, id: a.asset?.id, code: a.code }))).toEqual(
          answers.map((a) => ({ via: a.via, id: accepted[0]!.asset!.id, code: undefined })),
        );
        const left = await leftIn(spaceId);
        expect({ assets: left.assets.length, objects: left.objects }).toEqual({
          assets: 1,
          objects: [`originals/${rowId(spaceId)}/${accepted[0]!.asset!.sha256}`],
        });
        renders = await renderAccepted(file, accepted[0]!.asset!);
      }
      rows.push({
        name: file.name,
        kind: file.kind,
        answers: answers
          .map((a) => (a.asset ? 'accepted' : `${a.code}${a.reason ? ` (${String(a.reason)})` : ''}`))
          .join(' / '),
        renders,
      });
    },
  );

  it('still answers /healthz and /readyz, answered no request with a 5xx, and dead-lettered background renders only with 4xx codes', async () => {
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(200);
    await t.tessera.queue.drain(60_000).catch(() => undefined);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    const served = metrics
      .split('\n')
      .filter((line) => line.startsWith('tessera_http_request_duration_seconds_count'));
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((line) => /status="5\d\d"/.test(line))).toEqual([]);
    const dead = await t.tessera.queue.deadLetters(1000);
    for (const job of dead) {
      const code = /^([A-Z_]+):/.exec(job.error)?.[1] as ErrorCode | undefined;
      expect({
        job: job.name,
        error: job.error,
        is4xx: code !== undefined && httpStatusOf[code] < 500,
      }).toEqual({
        job: job.name,
        error: job.error,
        is4xx: true,
      });
    }
  });
});
