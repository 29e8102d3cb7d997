/**
 * `tessera fsck`, run as an operator runs it (the CLI in a process of its own, against the live
 * registry and bucket): it names each inconsistency made on purpose and exits 1; `--repair` fixes
 * them; a second run finds nothing and exits 0. Work going on meanwhile is no inconsistency.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Fsck, type FsckReport } from '../../src/media/fsck.service.js';
import type { ObjectInfo, ObjectStore } from '../../src/storage/object-store.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { rowId, settle } from '../ingestion/ingest-client.js';
import { fetchImage, upload, urlOf, variantRows } from '../delivery/delivery-client.js';
import { bucketObjects, runCli } from './jobs-support.js';

describeWith(['s3'], 'jobs: tessera fsck', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({ storage: 's3' });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  }, 30_000);

  const fsckJson = async (...args: string[]): Promise<{ code: number | null; report: FsckReport }> => {
    const run = await runCli(t, ['fsck', '--json', ...args]);
    if (run.code !== 0 && run.code !== 1) throw new Error(`fsck failed (${run.code}):\n${run.stderr}`);
    return { code: run.code, report: JSON.parse(run.stdout) as FsckReport };
  };

  const storageKeyOf = async (assetId: string): Promise<string> => {
    const [row] = (await t.tessera.registry.dataSource.query('SELECT storage_key FROM assets WHERE id = $1', [
      rowId(assetId),
    ])) as { storage_key: string }[];
    return row!.storage_key;
  };

  it('lists an original gone, a variant object gone and stray objects (exit 1); --repair fixes them; then all is well (exit 0)', async () => {
    const lost = await upload(t, 'rocket.jpg');
    const damaged = await upload(t, 'chelsea.png');
    const intact = await upload(t, 'hubble_deep_field.jpg');
    await settle(t);
    expect(await fsckJson()).toEqual({
      code: 0,
      report: { assetsWithoutOriginal: [], variantsWithoutObject: [], objectsWithoutRow: [], repaired: null },
    });

    await t.tessera.store.delete(await storageKeyOf(lost.id));
    const [variantRow] = (await t.tessera.registry.dataSource.query(
      'SELECT id, storage_key FROM variants WHERE asset_id = $1 ORDER BY storage_key LIMIT 1',
      [rowId(damaged.id)],
    )) as { id: string; storage_key: string }[];
    await t.tessera.store.delete(variantRow!.storage_key);
    const space = rowId(t.boot.spaceId);
    const strayBytes = randomBytes(1000);
    const strays = [
      `originals/${space}/${createHash('sha256').update(strayBytes).digest('hex')}`,
      `variants/${space}/${randomBytes(8).toString('hex')}/stray.webp`,
      `uploads/${space}/${randomBytes(8).toString('hex')}`,
    ].sort();
    for (const key of strays)
      await t.tessera.store.write(key, strayBytes, { contentType: 'application/octet-stream', bytes: 1000 });

    const found = await fsckJson();
    expect(found).toEqual({
      code: 1,
      report: {
        assetsWithoutOriginal: [rowId(lost.id)],
        variantsWithoutObject: [variantRow!.id],
        objectsWithoutRow: strays,
        repaired: null,
      },
    });
    const human = await runCli(t, ['fsck']);
    expect(human.code).toBe(1);
    for (const item of [rowId(lost.id), variantRow!.id, ...strays]) expect(human.stdout).toContain(item);

    const lostVariants = (await variantRows(t, lost.id)).map((r) => r.storage_key);
    expect(lostVariants).toHaveLength(3);
    const repaired = await fsckJson('--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.report.repaired).toEqual({ deletedObjects: 3, deletedVariantRows: 1, deletedAssets: 1 });

    // The broken asset is gone with its variants; the others are whole; the strays are gone.
    const lookup = await t.gql<{ asset: unknown }>('query($id: ID!) { asset(id: $id) { id } }', {
      id: lost.id,
    });
    expect(lookup.data?.asset ?? null).toBeNull();
    const objects = await bucketObjects(t);
    for (const key of [...strays, ...lostVariants]) expect(objects.has(key)).toBe(false);
    expect(await variantRows(t, damaged.id)).toHaveLength(2);
    expect(await variantRows(t, intact.id)).toHaveLength(3);
    expect(objects.has(await storageKeyOf(damaged.id))).toBe(true);

    expect(await fsckJson()).toEqual({
      code: 0,
      report: { assetsWithoutOriginal: [], variantsWithoutObject: [], objectsWithoutRow: [], repaired: null },
    });
    // The asset whose variant was dropped serves it again (rendered anew).
    const again = await fetchImage(await urlOf(t, damaged.id, { preset: 'thumbnail' }));
    expect(again.status).toBe(200);
  }, 90_000);

  it('an upload landing while fsck --repair runs is neither reported nor removed', async () => {
    await settle(t);
    const store = t.tessera.store;
    let arrived: string | undefined;
    // The bucket as it is read by fsck; the upload lands right after the originals are listed.
    const racing = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'list') {
          return (prefix: string): AsyncIterable<ObjectInfo> =>
            (async function* () {
              yield* target.list(prefix);
              if (prefix === 'originals/') arrived = (await upload(t, 'coffee.png')).id;
            })();
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as ObjectStore;

    const report = await new Fsck(t.tessera.registry.dataSource, racing).run({ repair: true });
    expect(arrived).toBeDefined();
    expect(report.assetsWithoutOriginal).toEqual([]);
    expect(report.repaired).toEqual({ deletedObjects: 0, deletedVariantRows: 0, deletedAssets: 0 });
    const lookup = await t.gql<{ asset: { id: string } | null }>(
      'query($id: ID!) { asset(id: $id) { id } }',
      {
        id: arrived!,
      },
    );
    expect(lookup.data?.asset).toEqual({ id: arrived });
    expect((await bucketObjects(t)).has(await storageKeyOf(arrived!))).toBe(true);
    await settle(t);
  }, 60_000);
});
