/**
 * The embedded default (no Redis): the same jobs run in the API process, in the background —
 * uploads answer before the eager presets are rendered — and a corrupt original dead-letters.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AssetEntity } from '../../src/db/entities/index.js';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { rowId, settle } from '../ingestion/ingest-client.js';
import { variantObjects, variantRows } from '../delivery/delivery-client.js';
import { eventually, processingOf, statuses, uploadWithProcessing } from './jobs-support.js';

describeWith([], 'jobs: the in-process queue', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({
      storage: 'local',
      // originals are spoilt in storage below: none is kept in memory to hide that
      env: { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '50', ORIGINAL_CACHE_BYTES: '0' },
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  }, 30_000);

  it('eager presets render in the background of the API process after the upload answers', async () => {
    expect(t.tessera.queue.kind).toBe('memory');
    const asset = await uploadWithProcessing(t, {
      bytes: fixture('picosdeeuropa_by_Aitzol_Berasategi.jpg'),
      filename: 'picos.jpg',
    });
    const rendersAtAnswer = t.tessera.services.variants.renders;
    expect(rendersAtAnswer).toBeLessThan(3);
    expect(asset.processing.map((v) => v.preset.slug)).toEqual(['large', 'medium', 'thumbnail']);
    expect(asset.processing.some((v) => v.status === 'PENDING')).toBe(true);

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
    expect(rows).toHaveLength(3);
    expect(await variantObjects(t, asset)).toEqual(rows.map((r) => r.storage_key).sort());
    expect(t.tessera.services.variants.renders).toBe(3);
  }, 60_000);

  it('a render of a corrupt original goes to the dead letters after one try; processing says FAILED for it alone', async () => {
    const asset = await uploadWithProcessing(t, { bytes: fixture('coffee.png'), filename: 'coffee.png' });
    await settle(t);
    expect(statuses(await processingOf(t, asset.id))).toEqual({
      large: 'DONE',
      medium: 'DONE',
      thumbnail: 'DONE',
    });
    const entity = await t.tessera.registry.dataSource
      .getRepository(AssetEntity)
      .findOneByOrFail({ id: rowId(asset.id) });
    const garbage = randomBytes(20_000);
    await t.tessera.store.write(entity.storageKey, garbage, {
      contentType: 'image/png',
      bytes: garbage.length,
    });
    const created = await t.gql<{ createPreset: { id: string } }>(
      'mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }',
      {
        input: {
          spaceId: t.boot.spaceId,
          name: 'Poster',
          slug: 'poster',
          transform: { width: 500, format: 'JPG' },
          autoGenerate: true,
        },
      },
    );
    expect(created.errors).toBeUndefined();

    await t.tessera.services.eager.enqueueFor(entity);
    await settle(t);
    expect(statuses(await processingOf(t, asset.id))).toEqual({
      large: 'DONE',
      medium: 'DONE',
      poster: 'FAILED',
      thumbnail: 'DONE',
    });
    const dead = (await t.tessera.queue.deadLetters(100)).filter(
      (d) => (d.data as { assetId?: string }).assetId === entity.id,
    );
    expect(dead.map((d) => [d.name, d.attempts, /UNPROCESSABLE_IMAGE/.test(d.error)])).toEqual([
      ['preset.render', 1, true],
    ]);
    expect(await t.tessera.queue.counts()).toMatchObject({ waiting: 0, active: 0, delayed: 0 });
  }, 60_000);

  it('a render that keeps failing is tried JOB_ATTEMPTS times with backoff, then dead-lettered; processing says FAILED', async () => {
    const asset = await uploadWithProcessing(t, { bytes: fixture('rocket.jpg'), filename: 'rocket.jpg' });
    await settle(t);
    const entity = await t.tessera.registry.dataSource
      .getRepository(AssetEntity)
      .findOneByOrFail({ id: rowId(asset.id) });
    // The original is gone from storage: nothing says this cannot change, so it is retried.
    await t.tessera.store.delete(entity.storageKey);
    const created = await t.gql(
      'mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }',
      {
        input: {
          spaceId: t.boot.spaceId,
          name: 'Banner',
          slug: 'banner',
          transform: { width: 600, height: 200, format: 'WEBP' },
          autoGenerate: true,
        },
      },
    );
    expect(created.errors).toBeUndefined();

    await t.tessera.services.eager.enqueueFor(entity);
    await settle(t);
    const dead = (await t.tessera.queue.deadLetters(100)).filter(
      (d) => (d.data as { assetId?: string }).assetId === entity.id,
    );
    expect(dead.map((d) => [d.name, d.attempts])).toEqual([['preset.render', 3]]);
    expect(statuses(await processingOf(t, asset.id))).toMatchObject({ banner: 'FAILED', thumbnail: 'DONE' });
  }, 60_000);
});
