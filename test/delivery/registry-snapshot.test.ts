/**
 * A render needs no registry lookup of its own when the asset version's snapshot (its variant keys
 * as the registry held them, read once) lacks the variant: the next widths of one image cost one
 * SQL statement each, the insert. Variants another node stores after the snapshot was read are
 * found in the shared cache — their bytes, or, when too large for it, where they are stored — and
 * never made again.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import type { AssetView } from '../ingestion/ingest-client.js';
import {
  fetchImage,
  imageInfo,
  rendersOf,
  settle,
  startSecondNode,
  upload,
  urlOf,
  variantRows,
  type SecondNode,
} from './delivery-client.js';

describeWith([], 'registry snapshot on one node', () => {
  let t: TestTessera;
  let photo: AssetView;

  beforeAll(async () => {
    t = await startTestTessera();
    photo = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('after the first request of an image, each new width runs one SQL statement: its insert', async () => {
    const widths = [200, 210, 220, 230];
    const urls = await Promise.all(widths.map((width) => urlOf(t, photo.id, { transform: { width } })));
    const statements: number[] = [];
    for (const url of urls) {
      await t.tessera.services.variants.idle();
      const before = t.tessera.registry.statements();
      const answer = await fetchImage(url);
      expect([answer.status, answer.headers.get('x-cache')]).toEqual([200, 'render']);
      await t.tessera.services.variants.idle();
      statements.push(t.tessera.registry.statements() - before);
    }
    // the first reads the space and asset rows (the snapshot was read when eager presets rendered)
    expect(statements).toEqual([3, 1, 1, 1]);
    const rows = await variantRows(t, photo.id);
    for (const width of widths) expect(rows.map((r) => r.canonical)).toContain(`w_${width}-fmt_jpg`);
  });

  it('a variant stored before is read from the registry and storage, not made again, when memory has let it go', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 240 } });
    const first = await fetchImage(url);
    await t.tessera.services.variants.idle();
    // drop every hot copy this node holds of it, and its shared-cache entry
    const [row] = (await t.tessera.registry.dataSource.query(
      "SELECT variant_key FROM variants WHERE canonical = 'w_240-fmt_jpg'",
    )) as { variant_key: string }[];
    t.tessera.services.variants.forget([row!.variant_key]);
    await t.tessera.state.delete(`variant:${row!.variant_key}`);
    const before = rendersOf(t.tessera);
    const again = await fetchImage(url);
    expect([again.status, again.headers.get('x-cache')]).toEqual([200, 'registry']);
    expect(again.body.equals(first.body)).toBe(true);
    expect(rendersOf(t.tessera)).toBe(before);
  });
});

describeWith(['redis', 's3'], 'registry snapshot across two nodes', () => {
  let t: TestTessera;
  let second: SecondNode;
  let photo: AssetView;

  beforeAll(async () => {
    // Variants over 20 kB stay out of Redis: their entry there says where they are stored.
    const env = { JOBS_IN_PROCESS: 'true', SHARED_CACHE_MAX_BYTES: '20000' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('variants the other node stored after this one read its snapshot are found, small and large, never made again', async () => {
    // this node reads the asset's snapshot with its first render
    const opening = await fetchImage(await urlOf(t, photo.id, { transform: { width: 120 } }));
    expect(opening.headers.get('x-cache')).toBe('render');
    // then the other node makes a small variant (into Redis) and a large one (its place into Redis)
    const small = await urlOf(t, photo.id, { transform: { width: 100, format: 'WEBP' } });
    const large = await urlOf(t, photo.id, { transform: { width: 1600, format: 'PNG' } });
    const made = [await fetchImage(second.here(small)), await fetchImage(second.here(large))];
    expect(made.map((a) => a.headers.get('x-cache'))).toEqual(['render', 'render']);
    expect(made[0]!.body.length).toBeLessThan(20_000);
    expect(made[1]!.body.length).toBeGreaterThan(20_000);
    await second.tessera.services.variants.idle();

    const before = rendersOf(t.tessera);
    const found = [await fetchImage(small), await fetchImage(large)];
    expect(found.map((a) => [a.status, a.headers.get('x-cache')])).toEqual([
      [200, 'redis'],
      [200, 'storage'],
    ]);
    expect(found[0]!.body.equals(made[0]!.body)).toBe(true);
    expect(found[1]!.body.equals(made[1]!.body)).toBe(true);
    expect(await imageInfo(found[1]!.body)).toMatchObject({ format: 'png', width: 1600 });
    expect(rendersOf(t.tessera)).toBe(before);
    const rows = (await variantRows(t, photo.id)).map((r) => r.canonical);
    expect(rows.filter((c) => c === 'w_1600-fmt_png' || c === 'w_100-fmt_webp')).toHaveLength(2);
  });

  it('a large variant whose stored object is gone is made again, not answered from its stale entry', async () => {
    const url = await urlOf(t, photo.id, { transform: { width: 1500, format: 'PNG' } });
    const made = await fetchImage(second.here(url));
    expect(made.headers.get('x-cache')).toBe('render');
    await second.tessera.services.variants.idle();
    const [row] = (await t.tessera.registry.dataSource.query(
      "SELECT id, storage_key FROM variants WHERE canonical = 'w_1500-fmt_png'",
    )) as { id: string; storage_key: string }[];
    // as cleanup would leave it: the object and its row gone, the shared entry not yet expired
    await t.tessera.store.delete(row!.storage_key);
    await t.tessera.registry.dataSource.query('DELETE FROM variants WHERE id = $1', [row!.id]);
    const before = rendersOf(t.tessera);
    const again = await fetchImage(url);
    expect([again.status, again.headers.get('x-cache')]).toEqual([200, 'render']);
    expect(again.body.equals(made.body)).toBe(true);
    expect(rendersOf(t.tessera)).toBe(before + 1);
  });
});
