/**
 * What the image endpoint says about its answers: Content-Type, Content-Length, ETag,
 * Cache-Control (public and immutable for versioned public URLs, private and bounded by `exp` for
 * signed ones), Vary only for negotiated formats, 304 and HEAD, which layer answered; `fmt_auto`
 * with the Accept headers of real browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import type { AssetView } from '../ingestion/ingest-client.js';
import {
  ACCEPT,
  fetchImage,
  imageInfo,
  rendersOf,
  settle,
  sharpFormat,
  startSecondNode,
  upload,
  urlOf,
  type SecondNode,
} from './delivery-client.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const IMMUTABLE = 'public, max-age=31536000, immutable';

describeWith([], 'image endpoint headers', () => {
  let t: TestTessera;
  let rocket: AssetView;
  let logo: AssetView;
  let secret: AssetView;

  beforeAll(async () => {
    t = await startTestTessera();
    [rocket, logo, secret] = await Promise.all([
      upload(t, 'rocket.jpg'),
      upload(t, 'logo.png'),
      upload(t, 'chelsea.png', { access: 'PRIVATE' }),
    ]);
    expect(logo.hasAlpha).toBe(true);
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a public variant: type, length, ETag of its bytes, immutable; rendered once, then from memory', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 320 } });
    const before = rendersOf(t.tessera);
    const first = await fetchImage(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(first.headers.get('content-length'))).toBe(first.body.length);
    expect(first.headers.get('etag')).toBe(`"${sha256(first.body)}"`);
    expect(first.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(first.headers.get('vary')).toBeNull();
    expect(first.headers.get('x-cache')).toBe('render');
    expect(first.headers.get('server-timing')).toMatch(
      /^cache;desc="render", render;dur=\d+, total;dur=[\d.]+$/,
    );
    expect(await imageInfo(first.body)).toMatchObject({ format: 'jpeg', width: 320 });

    const second = await fetchImage(url);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache')).toBe('memory');
    expect(second.headers.get('server-timing')).toMatch(/^cache;desc="memory", total;dur=[\d.]+$/);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.body.equals(first.body)).toBe(true);
    expect(rendersOf(t.tessera) - before).toBe(1);
  });

  it('a variant whose stored object was cut short (a crash before it reached the disk) is rendered again, never served short', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 337 } });
    const first = await fetchImage(url);
    expect(first.headers.get('x-cache')).toBe('render');
    const rowsOf = async () => {
      await t.tessera.services.variants.idle();
      return (await t.tessera.registry.dataSource.query(
        "SELECT variant_key, storage_key FROM variants WHERE canonical = 'w_337-fmt_jpg'",
      )) as { variant_key: string; storage_key: string }[];
    };
    const [row] = await rowsOf();
    // Out of the memory and shared layers, and its file cut short as a crash would leave it.
    t.tessera.services.variants.forget([row!.variant_key]);
    await t.tessera.state.delete(`variant:${row!.variant_key}`);
    const file = join(t.dataDir, 'objects', `${row!.storage_key}~obj`);
    writeFileSync(file, readFileSync(file).subarray(0, 1500));
    const before = rendersOf(t.tessera);
    const again = await fetchImage(url);
    expect([again.status, again.headers.get('x-cache')]).toEqual([200, 'render']);
    expect(again.body.equals(first.body)).toBe(true);
    expect(rendersOf(t.tessera) - before).toBe(1);
    expect(await rowsOf()).toEqual([row]);
    expect((await t.tessera.store.readBuffer(row!.storage_key)).equals(first.body)).toBe(true);
  });

  it('If-None-Match with the ETag answers 304 without a body; another ETag gets the image', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 321 } });
    const full = await fetchImage(url);
    const etag = full.headers.get('etag')!;
    for (const header of [etag, `W/${etag}`, `"0000", ${etag}`, '*']) {
      const answer = await fetchImage(url, { 'if-none-match': header });
      expect(answer.status).toBe(304);
      expect(answer.body.length).toBe(0);
      expect(answer.headers.get('etag')).toBe(etag);
      expect(answer.headers.get('cache-control')).toBe(IMMUTABLE);
    }
    const other = await fetchImage(url, { 'if-none-match': '"0000"' });
    expect(other.status).toBe(200);
    expect(other.body.equals(full.body)).toBe(true);
  });

  it('HEAD answers the headers of GET without a body', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 322, format: 'WEBP' } });
    const head = await fetchImage(url, {}, 'HEAD');
    const get = await fetchImage(url);
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of ['content-type', 'content-length', 'etag', 'cache-control'])
      expect([name, head.headers.get(name)]).toEqual([name, get.headers.get(name)]);
    expect(head.headers.get('content-type')).toBe('image/webp');
    expect(Number(head.headers.get('content-length'))).toBe(get.body.length);
    expect(get.headers.get('x-cache')).toBe('memory');
  });

  it('the original: its own type, length, ETag (its SHA-256), immutable, 304, HEAD', async () => {
    const url = await urlOf(t, rocket.id);
    expect(url).toMatch(/\/original\.jpg$/);
    const answer = await fetchImage(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(answer.headers.get('content-length'))).toBe(rocket.bytes);
    expect(sha256(answer.body)).toBe(rocket.sha256);
    expect(answer.headers.get('etag')).toBe(`"${rocket.sha256}"`);
    expect(answer.headers.get('cache-control')).toBe(IMMUTABLE);
    expect((await fetchImage(url, { 'if-none-match': `"${rocket.sha256}"` })).status).toBe(304);
    const head = await fetchImage(url, {}, 'HEAD');
    expect([head.status, head.body.length, Number(head.headers.get('content-length'))]).toEqual([
      200,
      0,
      rocket.bytes,
    ]);
  });

  it('a signed URL is cached privately, no longer than it is valid', async () => {
    for (const expiresIn of [60, 3600]) {
      const url = await urlOf(t, secret.id, { transform: { width: 200 }, expiresIn });
      const exp = Number(new URL(url).searchParams.get('exp'));
      const answer = await fetchImage(url);
      expect(answer.status).toBe(200);
      const match = /^private, max-age=(\d+)$/.exec(answer.headers.get('cache-control') ?? '');
      expect(match).not.toBeNull();
      const maxAge = Number(match![1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(exp - Math.floor(Date.now() / 1000) + 1);
      expect(answer.headers.get('etag')).toBe(`"${sha256(answer.body)}"`);
      const original = await fetchImage(await urlOf(t, secret.id, { expiresIn }));
      expect(original.status).toBe(200);
      expect(original.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    }
  });

  describe('fmt_auto', () => {
    const cases: [string, string, 'rocket' | 'logo', string][] = [
      ['Chromium', ACCEPT.chromium, 'rocket', 'avif'],
      ['Safari 17', ACCEPT.safari17, 'rocket', 'avif'],
      ['Firefox', ACCEPT.firefox, 'rocket', 'avif'],
      ['a browser that takes WebP only', 'image/webp,image/apng,image/*,*/*;q=0.8', 'rocket', 'webp'],
      ['*/*', ACCEPT.any, 'rocket', 'jpg'],
      ['no Accept header', '', 'rocket', 'jpg'],
      ['*/* for a photo with alpha', ACCEPT.any, 'logo', 'png'],
      ['Chromium for a photo with alpha', ACCEPT.chromium, 'logo', 'avif'],
    ];
    for (const [index, [who, accept, which, format]] of cases.entries()) {
      it(`${who} → ${format}, with Vary: Accept`, async () => {
        const asset = which === 'rocket' ? rocket : logo;
        // A width of its own per case, so each browser is the first to ask for its variant.
        const width = 240 + index;
        const url = await urlOf(t, asset.id, { transform: { width, format: 'AUTO' } });
        expect(url).toMatch(new RegExp(`/w_${width}-fmt_auto\\.(jpg|png)$`));
        let answer = await fetchImage(url, accept ? { accept } : {});
        expect(answer.status).toBe(200);
        expect(answer.headers.get('vary')).toBe('Accept');
        if (format === 'avif') {
          // The first AVIF-capable request gets a short-lived WebP stand-in; AVIF follows in the background.
          expect(answer.headers.get('content-type')).toBe('image/webp');
          expect(answer.headers.get('cache-control')).toBe('public, max-age=60');
          await settle(t);
          answer = await fetchImage(url, accept ? { accept } : {});
        }
        expect(answer.headers.get('content-type')).toBe(`image/${format === 'jpg' ? 'jpeg' : format}`);
        expect(answer.headers.get('cache-control')).toBe(IMMUTABLE);
        const info = await imageInfo(answer.body);
        expect(info).toMatchObject({ format: sharpFormat(format), width });
        if (which === 'logo') expect(info.channels).toBe(4);
      });
    }

    it('an explicit format never says Vary', async () => {
      for (const format of ['JPG', 'PNG', 'WEBP', 'AVIF'] as const) {
        const answer = await fetchImage(await urlOf(t, rocket.id, { transform: { width: 100, format } }), {
          accept: ACCEPT.chromium,
        });
        expect([format, answer.status, answer.headers.get('vary')]).toEqual([format, 200, null]);
      }
    });
  });
});

describeWith(['redis', 's3'], 'two nodes sharing the registry, S3 and Redis', () => {
  let t: TestTessera;
  let second: SecondNode;
  let rocket: AssetView;

  beforeAll(async () => {
    // Variants up to 30 kB are shared through Redis; larger ones through the registry and S3.
    const env = { SHARED_CACHE_MAX_BYTES: '30000', JOBS_IN_PROCESS: 'true' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  const rowsFor = async (canonical: string): Promise<number> => {
    await Promise.all([t.tessera.services.variants.idle(), second.tessera.services.variants.idle()]);
    return Number(
      (
        (await t.tessera.registry.dataSource.query(
          'SELECT count(*)::int AS n FROM variants WHERE canonical = $1',
          [canonical],
        )) as { n: number }[]
      )[0]!.n,
    );
  };

  it('a small variant rendered on one node is served by the other from Redis, then from its memory', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 120 } });
    const renders = [rendersOf(t.tessera), rendersOf(second.tessera)];
    const first = await fetchImage(url);
    expect(first.headers.get('x-cache')).toBe('render');
    expect(first.body.length).toBeLessThan(30_000);
    await t.tessera.services.variants.idle();
    const there = await fetchImage(second.here(url));
    expect(there.status).toBe(200);
    expect(there.headers.get('x-cache')).toBe('redis');
    expect(there.body.equals(first.body)).toBe(true);
    expect(there.headers.get('etag')).toBe(first.headers.get('etag'));
    expect((await fetchImage(second.here(url))).headers.get('x-cache')).toBe('memory');
    expect([rendersOf(t.tessera) - renders[0]!, rendersOf(second.tessera) - renders[1]!]).toEqual([1, 0]);
    expect(await rowsFor('w_120-fmt_jpg')).toBe(1);
  });

  it('asked of the other node the moment it is answered, a new variant is not made twice', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 140 } });
    const renders = [rendersOf(t.tessera), rendersOf(second.tessera)];
    const first = await fetchImage(url);
    expect(first.headers.get('x-cache')).toBe('render');
    // its bytes, object and row are on their way; the other node waits for them, never renders
    const there = await fetchImage(second.here(url));
    expect(there.status).toBe(200);
    expect(['redis', 'registry']).toContain(there.headers.get('x-cache'));
    expect(there.body.equals(first.body)).toBe(true);
    expect([rendersOf(t.tessera) - renders[0]!, rendersOf(second.tessera) - renders[1]!]).toEqual([1, 0]);
    expect(await rowsFor('w_140-fmt_jpg')).toBe(1);
  });

  it('a large variant rendered on one node is served by the other from S3, found through its place in Redis', async () => {
    const url = await urlOf(t, rocket.id, { transform: { width: 600, format: 'PNG' } });
    const renders = [rendersOf(t.tessera), rendersOf(second.tessera)];
    const first = await fetchImage(second.here(url));
    expect(first.headers.get('x-cache')).toBe('render');
    expect(first.body.length).toBeGreaterThan(30_000);
    await second.tessera.services.variants.idle();
    const there = await fetchImage(url);
    expect(there.status).toBe(200);
    expect(there.headers.get('x-cache')).toBe('storage');
    expect(there.body.equals(first.body)).toBe(true);
    expect((await fetchImage(url)).headers.get('x-cache')).toBe('memory');
    expect([rendersOf(t.tessera) - renders[0]!, rendersOf(second.tessera) - renders[1]!]).toEqual([0, 1]);
    expect(await rowsFor('w_600-fmt_png')).toBe(1);
  });

  it('every variant is rendered once whichever node is asked first', async () => {
    const widths = [130, 140, 150, 160, 170, 180];
    const renders = rendersOf(t.tessera) + rendersOf(second.tessera);
    for (const [i, width] of widths.entries()) {
      const url = await urlOf(t, rocket.id, { transform: { width, format: 'WEBP' } });
      const [a, b] = i % 2 === 0 ? [url, second.here(url)] : [second.here(url), url];
      expect((await fetchImage(a)).headers.get('x-cache')).toBe('render');
      expect(['redis', 'registry']).toContain((await fetchImage(b)).headers.get('x-cache'));
      for (const again of [a, b]) expect((await fetchImage(again)).headers.get('x-cache')).toBe('memory');
    }
    expect(rendersOf(t.tessera) + rendersOf(second.tessera) - renders).toBe(widths.length);
    for (const width of widths) expect(await rowsFor(`w_${width}-fmt_webp`)).toBe(1);
  });
});
