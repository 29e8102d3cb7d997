/**
 * Storage and registry stay consistent through delete, replace and pruning, with the cleanup and
 * maintenance jobs run by a worker process: the bucket holds exactly what live rows refer to, the
 * purge webhook hears of each change, and variants not served within VARIANT_RETENTION_DAYS go
 * (object and row) while the others stay.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  createUpload,
  loopbackServer,
  postForm,
  replaceAsset,
  rowId,
  settle,
  uploadRow,
  type LoopbackServer,
} from '../ingestion/ingest-client.js';
import { dataOf, fetchImage, urlOf, variantRows } from '../delivery/delivery-client.js';
import { MAINTENANCE_JOB } from '../../src/media/maintenance.service.js';
import { parsePublicId } from '../../src/ids/index.js';
import {
  bucketObjects,
  eventually,
  processingOf,
  referencedKeys,
  startWorker,
  uploadWithProcessing,
  type UploadedView,
  type WorkerProcess,
} from './jobs-support.js';

interface Notice {
  event: string;
  assetId: string;
  spaceId: string;
  urlPrefixes: string[];
}

describeWith(['redis', 's3'], 'jobs: cleanup and pruning keep storage and registry consistent', () => {
  let t: TestTessera;
  let webhook: LoopbackServer;
  let worker: WorkerProcess | undefined;
  const notices: Notice[] = [];

  beforeAll(async () => {
    webhook = await loopbackServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        notices.push(JSON.parse(body) as Notice);
        res.writeHead(204).end();
      });
    });
    const env = { PURGE_WEBHOOK_URL: `${webhook.origin}/purge`, VARIANT_RETENTION_DAYS: '1' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    worker = await startWorker(t, env);
  }, 60_000);

  afterAll(async () => {
    await worker?.kill();
    await t?.close();
    await webhook?.close();
  }, 60_000);

  const uploadDone = async (name: 'rocket.jpg' | 'hubble_deep_field.jpg' | 'chelsea.png') => {
    const asset = await uploadWithProcessing(t, { bytes: fixture(name), filename: name });
    await eventually(
      `eager variants of ${name}`,
      () => processingOf(t, asset.id),
      (views) => views.length === 3 && views.every((v) => v.status === 'DONE'),
    );
    return asset;
  };

  /** Renders `transform` of an asset through the image endpoint; the variant's storage key. */
  const render = async (asset: UploadedView, transform: Record<string, unknown>): Promise<string> => {
    const answer = await fetchImage(await urlOf(t, asset.id, { transform }));
    expect(answer.status).toBe(200);
    const before = new Set((await bucketObjects(t)).keys());
    const rows = await variantRows(t, asset.id);
    const row = rows.find((r) => r.width === transform.width && before.has(r.storage_key));
    if (!row) throw new Error(`no stored variant for ${JSON.stringify(transform)}`);
    return row.storage_key;
  };

  /** The bucket against the registry: every object is referenced, every reference has its object. */
  const expectConsistent = async () => {
    const objects = [...(await bucketObjects(t)).keys()].sort();
    const { originals, variants } = await referencedKeys(t);
    const pending = (
      (await t.tessera.registry.dataSource.query(
        "SELECT storage_key FROM uploads WHERE status = 'pending'",
      )) as { storage_key: string }[]
    ).map((r) => r.storage_key);
    const staged = objects.filter((k) => k.startsWith('uploads/'));
    expect(objects.filter((k) => k.startsWith('originals/'))).toEqual(originals);
    expect(objects.filter((k) => k.startsWith('variants/'))).toEqual(variants);
    expect(pending.filter((k) => !staged.includes(k))).toEqual([]); // a pending upload may not be posted yet
    expect(staged.filter((k) => !pending.includes(k))).toEqual([]);
    expect(objects.filter((k) => !/^(originals|variants|uploads)\//.test(k))).toEqual([]);
    return objects;
  };

  it('after a replace and a delete, the bucket holds exactly what live rows refer to; the purge webhook hears of both', async () => {
    const replaced = await uploadDone('rocket.jpg');
    const deleted = await uploadDone('hubble_deep_field.jpg');
    await render(replaced, { width: 200, format: 'WEBP' });
    await render(deleted, { width: 200, format: 'WEBP' });
    expect(await variantRows(t, replaced.id)).toHaveLength(4);
    expect(await variantRows(t, deleted.id)).toHaveLength(4);
    const before = await bucketObjects(t);

    const res = await replaceAsset(t, replaced.id, {
      bytes: fixture('coffee.png'),
      filename: 'coffee.png',
      type: 'image/png',
    });
    expect(dataOf(res).replaceAsset.version).toBe(2);
    const gone = await t.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: deleted.id });
    expect(gone.data).toEqual({ deleteAsset: true });

    await eventually(
      'purge notices of the replace and the delete',
      async () => notices.map((n) => `${n.event} ${n.assetId}`),
      (seen) =>
        seen.includes(`asset.replaced ${replaced.id}`) && seen.includes(`asset.deleted ${deleted.id}`),
    );
    await eventually(
      'eager variants of version 2',
      () => processingOf(t, replaced.id),
      (views) => views.every((v) => v.status === 'DONE'),
    );
    await settle(t);

    const objects = await expectConsistent();
    // Version 1 of the replaced asset left nothing: its original and its four variants are gone.
    const v2 = await variantRows(t, replaced.id);
    expect(v2).toHaveLength(3);
    expect(
      (await t.tessera.registry.dataSource.query('SELECT asset_version FROM variants WHERE asset_id = $1', [
        rowId(replaced.id),
      ])) as { asset_version: number }[],
    ).toEqual([{ asset_version: 2 }, { asset_version: 2 }, { asset_version: 2 }]);
    const survivors = [...before.keys()].filter((k) => objects.includes(k));
    expect(survivors.filter((k) => k.includes(rowId(replaced.id)) || k.includes(rowId(deleted.id)))).toEqual(
      [],
    );
    // The deleted asset has no row, no variant row and no object left.
    expect(
      await t.tessera.registry.dataSource.query('SELECT id FROM assets WHERE id = $1', [rowId(deleted.id)]),
    ).toEqual([]);
    expect(await variantRows(t, deleted.id)).toEqual([]);
    expect(objects.filter((k) => k.includes(rowId(deleted.id)))).toEqual([]);

    const { organization, tenant, space } = t.boot;
    for (const [event, asset] of [
      ['asset.replaced', replaced],
      ['asset.deleted', deleted],
    ] as const) {
      const notice = notices.find((n) => n.event === event && n.assetId === asset.id);
      expect(notice).toEqual({
        event,
        assetId: asset.id,
        spaceId: t.boot.spaceId,
        urlPrefixes: ['pub', 'priv'].map(
          (kind) => `${t.baseUrl}/v1/${kind}/${organization}/${tenant}/${space}/img/${asset.id}/`,
        ),
      });
    }
    expect(t.tessera.services.variants.renders).toBe(2);
  }, 90_000);

  it('maintenance prunes variants not served within the retention period (objects and rows) and expires abandoned uploads; the rest stays', async () => {
    const asset = await uploadDone('chelsea.png');
    const servedLongAgo = await render(asset, { width: 120, format: 'WEBP' });
    const servedLately = await render(asset, { width: 240, format: 'WEBP' });
    const rows = await variantRows(t, asset.id);
    const eager = rows.filter((r) => r.storage_key !== servedLongAgo && r.storage_key !== servedLately);
    const neverServed = eager.find((r) => r.width === 300)!.storage_key; // the thumbnail
    const fresh = eager.filter((r) => r.storage_key !== neverServed).map((r) => r.storage_key);
    expect(fresh).toHaveLength(2);

    // Served-at stamps of the requests above land now, not after the dates set below.
    await t.tessera.services.usage.flush();
    const db = t.tessera.registry.dataSource;
    const age = (key: string, created: string, accessed: string | null) =>
      db.query(
        `UPDATE variants SET created_at = now() - $2::interval,
           last_accessed_at = CASE WHEN $3::interval IS NULL THEN NULL ELSE now() - $3::interval END
         WHERE storage_key = $1`,
        [key, created, accessed],
      );
    await age(servedLongAgo, '3 days', '2 days');
    await age(neverServed, '2 days', null);
    await age(servedLately, '5 days', '1 hour');

    // A direct upload posted but never completed, its form long expired; and one still open.
    const abandoned = dataOf(
      await createUpload(t, {
        filename: 'rocket.jpg',
        contentType: 'image/jpeg',
        bytes: fixture('rocket.jpg').length,
      }),
    ).createUpload;
    expect(
      (
        await postForm(abandoned.url, abandoned.fields, {
          bytes: fixture('rocket.jpg'),
          filename: 'rocket.jpg',
          type: 'image/jpeg',
        })
      ).status,
    ).toBeLessThan(300);
    const open = dataOf(
      await createUpload(t, {
        filename: 'chelsea.png',
        contentType: 'image/png',
        bytes: fixture('chelsea.png').length,
      }),
    ).createUpload;
    expect(
      (
        await postForm(open.url, open.fields, {
          bytes: fixture('chelsea.png'),
          filename: 'chelsea.png',
          type: 'image/png',
        })
      ).status,
    ).toBeLessThan(300);
    const abandonedRow = parsePublicId(abandoned.uploadId)!.uuid;
    const openRow = parsePublicId(open.uploadId)!.uuid;
    await db.query("UPDATE uploads SET expires_at = now() - interval '2 days' WHERE id = $1", [abandonedRow]);
    const abandonedKey = (await uploadRow(t, abandonedRow)).storage_key;
    const openKey = (await uploadRow(t, openRow)).storage_key;
    expect((await bucketObjects(t)).has(abandonedKey)).toBe(true);

    await t.tessera.queue.enqueue(MAINTENANCE_JOB, {}, { jobId: `maintenance.test.${Date.now()}` });
    await eventually(
      'the abandoned upload expired',
      () => uploadRow(t, abandonedRow),
      (row) => row.status !== 'pending',
    );
    await settle(t);

    const kept = (await variantRows(t, asset.id)).map((r) => r.storage_key).sort();
    expect(kept).toEqual([servedLately, ...fresh].sort());
    const objects = await bucketObjects(t);
    expect(objects.has(servedLongAgo)).toBe(false);
    expect(objects.has(neverServed)).toBe(false);
    for (const key of kept) expect(objects.has(key)).toBe(true);

    expect(await uploadRow(t, abandonedRow)).toMatchObject({ status: 'failed', error_code: 'EXPIRED' });
    expect(objects.has(abandonedKey)).toBe(false);
    expect(await uploadRow(t, openRow)).toMatchObject({ status: 'pending' });
    expect(objects.has(openKey)).toBe(true);
    await expectConsistent();
  }, 90_000);
});
