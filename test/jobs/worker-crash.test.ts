/**
 * A worker process killed (SIGKILL) in the middle of a render: its job is not lost — once its lock
 * lapses another worker takes it over and finishes it — and the variant exists once, in the
 * registry and in the bucket.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { createSpace, rowId } from '../ingestion/ingest-client.js';
import { variantObjects, variantRows } from '../delivery/delivery-client.js';
import {
  eventually,
  onlyEagerPreset,
  processingOf,
  startWorker,
  statuses,
  uploadWithProcessing,
  type WorkerProcess,
} from './jobs-support.js';

describeWith(['redis', 's3'], 'jobs: a worker killed mid-job', () => {
  let t: TestTessera;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    t = await startTestTessera({ storage: 's3', cache: 'redis' });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.kill();
    await t?.close();
  }, 60_000);

  it('the job is taken over by another worker and completes; one variant row, one object', async () => {
    const spaceId = await createSpace(t, 'Crash');
    // AVIF of a 13 MP photograph: seconds of work, time enough to kill the worker doing it.
    await onlyEagerPreset(t, spaceId, 'hero-avif', { width: 1200, format: 'AVIF' });
    const first = await startWorker(t);
    workers.push(first);

    const asset = await uploadWithProcessing(
      t,
      { bytes: fixture('Dragonfly_by_Bolly.jpg'), filename: 'dragonfly.jpg' },
      { spaceId },
    );
    expect(statuses(asset.processing)).toEqual({ 'hero-avif': 'PENDING' });
    await eventually(
      'the render job running',
      () => t.tessera.queue.counts(),
      (c) => c.active === 1,
    );
    // Reading 1.5 MB and encoding 1200×900 AVIF from 13 MP takes seconds on any machine.
    await new Promise((r) => setTimeout(r, 300));
    expect(await variantRows(t, asset.id)).toEqual([]);
    await first.kill();

    expect(statuses(await processingOf(t, asset.id))).toEqual({ 'hero-avif': 'PENDING' });
    const second = await startWorker(t);
    workers.push(second);
    const [done] = await eventually(
      'the render finished by the second worker',
      () => processingOf(t, asset.id),
      ([view]) => view?.status === 'DONE',
      150_000,
      500,
    );
    expect(done!.variant).toMatchObject({ format: 'avif', width: 1200, height: 900 });

    const rows = await variantRows(t, asset.id);
    expect(rows).toHaveLength(1);
    expect(await variantObjects(t, asset)).toEqual([rows[0]!.storage_key]);
    const meta = await sharp(await t.tessera.store.readBuffer(rows[0]!.storage_key)).metadata();
    expect({ format: meta.format, compression: meta.compression, width: meta.width }).toEqual({
      format: 'heif',
      compression: 'av1',
      width: 1200,
    });
    const dead = await t.tessera.queue.deadLetters(100);
    expect(dead.filter((d) => (d.data as { assetId?: string }).assetId === rowId(asset.id))).toEqual([]);
    expect(t.tessera.services.variants.renders).toBe(0);
    expect(await second.stop()).toBe(0);
  }, 200_000);
});
