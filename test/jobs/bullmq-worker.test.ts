/**
 * Production shape: the API queues jobs in Redis and does not run them (JOBS_IN_PROCESS=auto);
 * `npm run worker` processes, started here as separate processes, render the eager presets into
 * the S3 bucket. A job whose original is corrupt ends in the dead letters at once.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { rowId } from '../ingestion/ingest-client.js';
import { variantObjects, variantRows } from '../delivery/delivery-client.js';
import {
  eventually,
  processingOf,
  startWorker,
  statuses,
  uploadWithProcessing,
  type WorkerProcess,
} from './jobs-support.js';

const ALL_PENDING = { large: 'PENDING', medium: 'PENDING', thumbnail: 'PENDING' };

describeWith(['redis', 's3'], 'jobs: BullMQ on Redis with worker processes', () => {
  let t: TestTessera;
  const workers: WorkerProcess[] = [];

  const worker = async (): Promise<WorkerProcess> => {
    const w = await startWorker(t);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await startTestTessera({ storage: 's3', cache: 'redis' });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.kill();
    await t?.close();
  }, 60_000);

  it('uploads answer at once with eager presets PENDING; a worker process renders them into the bucket, the API none', async () => {
    expect(t.tessera.queue.kind).toBe('bullmq');
    const w = await worker();
    // 3264×2448 (4:3): the default presets give exact sizes.
    const asset = await uploadWithProcessing(t, {
      bytes: fixture('picosdeeuropa_by_Aitzol_Berasategi.jpg'),
      filename: 'picos.jpg',
    });
    expect(statuses(asset.processing)).toEqual(ALL_PENDING);

    const done = await eventually(
      'eager variants DONE',
      () => processingOf(t, asset.id),
      (views) => views.every((v) => v.status === 'DONE'),
    );
    expect(done.map((v) => [v.preset.slug, v.variant?.format, v.variant?.width, v.variant?.height])).toEqual([
      ['large', 'webp', 1600, 1200],
      ['medium', 'webp', 800, 600],
      ['thumbnail', 'webp', 300, 225],
    ]);

    const rows = await variantRows(t, asset.id);
    const objects = await variantObjects(t, asset);
    expect(rows).toHaveLength(3);
    expect(objects).toEqual(rows.map((r) => r.storage_key).sort());
    for (const row of rows) {
      const meta = await sharp(await t.tessera.store.readBuffer(row.storage_key)).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: 'webp',
        width: row.width,
        height: row.height,
      });
    }
    expect(t.tessera.services.variants.renders).toBe(0);
    // Stopping flushes what the worker metered: its renders count in the space's usage.
    expect(await w.stop()).toBe(0);
    const day = 86_400_000;
    const usage = await t.gql<{ usage: { renders: number; renderMs: number; uploads: number }[] }>(
      'query($s: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { usage(spaceId: $s, from: $from, to: $to) { renders renderMs uploads } }',
      {
        s: t.boot.spaceId,
        from: new Date(Date.now() - day).toISOString(),
        to: new Date(Date.now() + day).toISOString(),
      },
    );
    const sum = (k: 'renders' | 'uploads') => (usage.data?.usage ?? []).reduce((n, d) => n + d[k], 0);
    expect({ renders: sum('renders'), uploads: sum('uploads') }).toEqual({ renders: 3, uploads: 1 });
  }, 60_000);

  it('a job whose original is corrupt goes to the dead letters after one try; processing says FAILED', async () => {
    // No worker runs while the file is uploaded and then damaged in storage.
    const asset = await uploadWithProcessing(t, { bytes: fixture('chelsea.png'), filename: 'chelsea.png' });
    expect(statuses(asset.processing)).toEqual(ALL_PENDING);
    const [row] = (await t.tessera.registry.dataSource.query('SELECT storage_key FROM assets WHERE id = $1', [
      rowId(asset.id),
    ])) as { storage_key: string }[];
    const garbage = randomBytes(20_000);
    await t.tessera.store.write(row!.storage_key, garbage, {
      contentType: 'image/png',
      bytes: garbage.length,
    });

    const w = await worker();
    const mine = async () =>
      (await t.tessera.queue.deadLetters(100)).filter(
        (d) => (d.data as { assetId?: string }).assetId === rowId(asset.id),
      );
    const dead = await eventually('three dead letters', mine, (jobs) => jobs.length === 3);
    for (const job of dead) {
      expect(job.name).toBe('preset.render');
      expect(job.attempts).toBe(1);
      expect(job.error).toMatch(/UNPROCESSABLE_IMAGE/);
    }
    expect(statuses(await processingOf(t, asset.id))).toEqual({
      large: 'FAILED',
      medium: 'FAILED',
      thumbnail: 'FAILED',
    });

    // Longer than a backoff: nothing comes back to be tried again.
    await new Promise((r) => setTimeout(r, 2500));
    const counts = await t.tessera.queue.counts();
    expect({ waiting: counts.waiting, active: counts.active, delayed: counts.delayed }).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
    });
    expect((await mine()).map((d) => d.attempts)).toEqual([1, 1, 1]);
    expect(await variantRows(t, asset.id)).toEqual([]);
    expect(t.tessera.services.variants.renders).toBe(0);
    expect(await w.stop()).toBe(0);
  }, 60_000);
});
