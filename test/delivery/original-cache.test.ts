/**
 * Originals kept in memory for the next renders of the same image: the widths of a srcset asked
 * one after the other read the original from storage once (storage reads as `/metrics` counts
 * them), and every one of them is the image it should be; with ORIGINAL_CACHE_BYTES=0 each render
 * reads it again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { fetchImage, upload, urlOf } from './delivery-client.js';

/** Storage reads so far, from `/metrics`. */
async function storageReads(t: TestTessera): Promise<number> {
  const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
  const line = /^tessera_storage_operation_duration_seconds_count\{op="read",outcome="ok"\} (\d+)$/m.exec(
    text,
  );
  return Number(line?.[1] ?? 0);
}

/** Renders three widths of a fresh upload, one after the other: the storage reads they made. */
async function readsForThreeWidths(t: TestTessera): Promise<number> {
  const photo = await upload(t, 'rocket.jpg');
  const before = await storageReads(t);
  for (const width of [301, 402, 503]) {
    const answer = await fetchImage(await urlOf(t, photo.id, { transform: { width, format: 'WEBP' } }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-cache')).toBe('render');
    expect((await sharp(answer.body).metadata()).width).toBe(width);
  }
  return (await storageReads(t)) - before;
}

describe('originals kept in memory for the next renders', () => {
  let cached: TestTessera;
  let uncached: TestTessera;

  beforeAll(async () => {
    // no background jobs: only the requests below read the original
    const env = { JOBS_IN_PROCESS: 'false' };
    cached = await startTestTessera({ env });
    uncached = await startTestTessera({ env: { ...env, ORIGINAL_CACHE_BYTES: '0' } });
  }, 120_000);

  afterAll(async () => {
    await cached?.close();
    await uncached?.close();
  });

  it('reads the original once for three widths of it', async () => {
    expect(await readsForThreeWidths(cached)).toBe(1);
  }, 60_000);

  it('reads it for every render when turned off', async () => {
    expect(await readsForThreeWidths(uncached)).toBe(3);
  }, 60_000);
});
