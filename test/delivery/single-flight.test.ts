/**
 * One render per variant, however many ask at once: 50 concurrent first requests on one node, and
 * 2 × 25 on two nodes sharing the registry, S3 and Redis, all get the same bytes from one render,
 * one registry row and one stored object.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import type { AssetView } from '../ingestion/ingest-client.js';
import {
  ACCEPT,
  dataOf,
  expectProblem,
  fetchImage,
  imageInfo,
  rendersOf,
  settle,
  startSecondNode,
  transformAsset,
  upload,
  urlOf,
  variantObjects,
  variantRows,
  type Fetched,
  type SecondNode,
} from './delivery-client.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Checks every answer is a 200 with the same bytes; returns their hash. */
function sameImage(answers: readonly Fetched[]): string {
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  const hashes = new Set(answers.map((a) => sha256(a.body)));
  expect(hashes.size).toBe(1);
  return [...hashes][0]!;
}

describeWith([], 'single flight on one node', () => {
  let t: TestTessera;
  let photo: AssetView;

  beforeAll(async () => {
    t = await startTestTessera();
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('50 concurrent first requests: all 200, identical bytes, one render, one row, one object', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 900, format: 'WEBP' } });
    const [rowsBefore, objectsBefore, before] = [
      await variantRows(t, photo.id),
      await variantObjects(t, photo),
      rendersOf(t.tessera),
    ];
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetchImage(url)));
    const hash = sameImage(answers);
    expect(rendersOf(t.tessera) - before).toBe(1);
    expect(await imageInfo(answers[0]!.body)).toMatchObject({ format: 'webp', width: 900 });

    const rows = (await variantRows(t, photo.id)).filter(
      (r) => !rowsBefore.some((b) => b.storage_key === r.storage_key),
    );
    expect(rows).toEqual([
      expect.objectContaining({ canonical: 'w_900-fmt_webp', format: 'webp', width: 900 }),
    ]);
    const objects = (await variantObjects(t, photo)).filter((key) => !objectsBefore.includes(key));
    expect(objects).toEqual([rows[0]!.storage_key]);
    expect(sha256(await t.tessera.store.readBuffer(objects[0]!))).toBe(hash);

    const again = await fetchImage(url);
    expect([again.headers.get('x-cache'), sha256(again.body)]).toEqual(['memory', hash]);
    expect(rendersOf(t.tessera) - before).toBe(1);
  });

  it('fmt_auto asked at once by AVIF and JPEG browsers: one render per negotiated format, AVIF once in the background', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 400, format: 'AUTO' } });
    const before = rendersOf(t.tessera);
    const accepts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? ACCEPT.chromium : ACCEPT.any));
    const answers = await Promise.all(accepts.map((accept) => fetchImage(url, { accept })));
    sameImage(answers.filter((_, i) => i % 2 === 0));
    sameImage(answers.filter((_, i) => i % 2 === 1));
    // AVIF browsers first get the WebP stand-in while one background job renders the AVIF.
    expect(new Set(answers.map((a) => a.headers.get('content-type')))).toEqual(
      new Set(['image/webp', 'image/jpeg']),
    );
    await settle(t);
    const later = await Promise.all(
      Array.from({ length: 10 }, () => fetchImage(url, { accept: ACCEPT.chromium })),
    );
    sameImage(later);
    expect(later[0]!.headers.get('content-type')).toBe('image/avif');
    expect(rendersOf(t.tessera) - before).toBe(3);
    expect(
      (await variantRows(t, photo.id))
        .filter((r) => r.canonical.startsWith('w_400-'))
        .map((r) => r.canonical)
        .sort(),
    ).toEqual(['w_400-fmt_avif', 'w_400-fmt_jpg', 'w_400-fmt_webp']);
  });

  it('transformAsset and URL requests at the same moment share one render', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 640, height: 480 } });
    const before = rendersOf(t.tessera);
    const [variant, ...answers] = await Promise.all([
      transformAsset(t, photo.id, { transform: { width: 640, height: 480 } }),
      ...Array.from({ length: 10 }, () => fetchImage(url)),
    ]);
    expect(dataOf(variant).transformAsset).toMatchObject({
      canonical: 'w_640-h_480-f_cover-fmt_jpg',
      width: 640,
      height: 480,
    });
    sameImage(answers as Fetched[]);
    expect(rendersOf(t.tessera) - before).toBe(1);
  });
});

describeWith([], 'a variant on its way to storage', () => {
  let t: TestTessera;
  let photo: AssetView;

  beforeAll(async () => {
    // variants up to 10 KB are kept in memory: the ones below are larger
    t = await startTestTessera({ env: { VARIANT_CACHE_BYTES: '40000' } });
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('asked again the moment it is answered, it is answered from the bytes being stored: no render, no wait for its own lock', async () => {
    const url = new URL(await urlOf(t, photo.id, { transform: { width: 500 } }));
    const [, , access, org, tenant, space, , assetId, version, file] = url.pathname.split('/');
    const request = {
      access: access!,
      org: org!,
      tenant: tenant!,
      space: space!,
      assetId: assetId!,
      version: version!,
      file: file!,
      path: url.pathname,
    };
    const { delivery, variants } = t.tessera.services;
    const before = rendersOf(t.tessera);
    const first = await delivery.answer(request);
    // the same tick as the first answer: nothing of it is stored yet
    const again = await delivery.answer(request);
    if (first.kind !== 'variant' || again.kind !== 'variant') throw new Error('not variant answers');
    expect(first.variant.layer).toBe('render');
    expect(first.variant.data.length).toBeGreaterThan(10_000);
    expect(again.variant.layer).toBe('memory');
    expect(again.variant.data.equals(first.variant.data)).toBe(true);
    expect(rendersOf(t.tessera) - before).toBe(1);
    await variants.idle();
    // stored: the process no longer holds it, the registry does
    const later = await fetchImage(url.toString());
    expect([later.status, later.headers.get('x-cache')]).toEqual([200, 'redis']);
    expect(later.body.equals(first.variant.data)).toBe(true);
    expect(rendersOf(t.tessera) - before).toBe(1);
    expect((await variantRows(t, photo.id)).filter((r) => r.canonical === 'w_500-fmt_jpg')).toHaveLength(1);
  });
});

describeWith(['redis', 's3'], 'single flight across two nodes', () => {
  let t: TestTessera;
  let second: SecondNode;
  let photo: AssetView;

  beforeAll(async () => {
    const env = { JOBS_IN_PROCESS: 'true' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('2 × 25 concurrent first requests: one render in all, one row, one object, the same bytes everywhere', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 1000, format: 'JPG' } });
    const before = [rendersOf(t.tessera), rendersOf(second.tessera)];
    const [objectsBefore, rowsBefore] = [await variantObjects(t, photo), await variantRows(t, photo.id)];
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fetchImage(i % 2 === 0 ? url : second.here(url))),
    );
    const hash = sameImage(answers);
    const renders = [rendersOf(t.tessera) - before[0]!, rendersOf(second.tessera) - before[1]!];
    expect(renders[0]! + renders[1]!).toBe(1);
    // The node that did not render read the other's result from the registry and S3.
    const layers = new Set(answers.map((a) => a.headers.get('x-cache')));
    expect([...layers].every((l) => l === 'render' || l === 'registry' || l === 'redis')).toBe(true);
    const rows = (await variantRows(t, photo.id)).filter(
      (r) => !rowsBefore.some((b) => b.storage_key === r.storage_key),
    );
    expect(rows.map((r) => r.canonical)).toEqual(['w_1000-fmt_jpg']);
    const objects = (await variantObjects(t, photo)).filter((key) => !objectsBefore.includes(key));
    expect(objects).toEqual([rows[0]!.storage_key]);
    expect(sha256(await t.tessera.store.readBuffer(objects[0]!))).toBe(hash);
    for (const node of [url, second.here(url)])
      expect((await fetchImage(node)).headers.get('x-cache')).toBe('memory');
  });
});

describeWith([], 'renders beyond the bound', () => {
  let t: TestTessera;
  let photo: AssetView;

  beforeAll(async () => {
    // One render at a time, and no waiting for a slot.
    t = await startTestTessera({ env: { MAX_CONCURRENT_RENDERS: '1', RENDER_QUEUE_WAIT_MS: '0' } });
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('are refused with 503 and Retry-After, render nothing, and succeed when retried', async () => {
    const urls = await Promise.all(
      [500, 510, 520, 530, 540, 550, 560, 570].map((width) => urlOf(t, photo.id, { transform: { width } })),
    );
    const before = rendersOf(t.tessera);
    const answers = await Promise.all(urls.map((url) => fetchImage(url)));
    const refused = answers.flatMap((a, i) => (a.status === 503 ? [i] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    for (const i of refused) {
      const problem = expectProblem(answers[i]!, 503, 'SERVICE_UNAVAILABLE');
      expect(problem.detail).toMatch(/retry/i);
      expect(Number(answers[i]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(rendersOf(t.tessera) - before).toBe(urls.length - refused.length);
    for (const i of refused) {
      const again = await fetchImage(urls[i]!);
      expect([urls[i], again.status, again.headers.get('x-cache')]).toEqual([urls[i], 200, 'render']);
    }
    expect(rendersOf(t.tessera) - before).toBe(urls.length);
    expect(
      (await variantRows(t, photo.id)).filter((r) => /^w_5[0-7]0-fmt_jpg$/.test(r.canonical)),
    ).toHaveLength(urls.length);
  });
});
