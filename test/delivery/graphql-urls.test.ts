/**
 * A front end's list query: 20 assets, each with a URL, an image with srcset and placeholder, a
 * responsive srcset and its variants. Every URL answers 200 with the width it advertises, and the
 * number of SQL statements does not grow with the page size.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { createSpace, type AssetView } from '../ingestion/ingest-client.js';
import { fixture } from '../support/fixtures.js';
import { dataOf, fetchImage, imageInfo, settle, slug, transformAsset, upload } from './delivery-client.js';

const QUERY = `query($space: ID!, $first: Int) {
  assets(spaceId: $space, first: $first) {
    edges { node {
      id access width height
      url(transform: { width: 300 })
      image(transform: { width: 400 }) { url width height srcSet sizes placeholder { dataUri } }
      srcSet { src srcSet webpSrcSet sizes width height aspectRatio }
      variants(first: 3) { edges { node { url canonical width height } } }
    } }
  }
}`;

interface Node {
  id: string;
  access: 'PUBLIC' | 'PRIVATE';
  width: number;
  height: number;
  url: string;
  image: {
    url: string;
    width: number;
    height: number;
    srcSet: string;
    sizes: string;
    placeholder: { dataUri: string };
  };
  srcSet: {
    src: string;
    srcSet: string;
    webpSrcSet: string | null;
    sizes: string;
    width: number;
    height: number;
    aspectRatio: number;
  };
  variants: { edges: { node: { url: string; canonical: string; width: number; height: number } }[] };
}

/** `url 300w, url 400w` → [[url, 300], [url, 400]]. */
function entries(srcSet: string): [string, number][] {
  return srcSet.split(', ').map((part) => {
    const match = /^(\S+) (\d+)w$/.exec(part);
    if (!match) throw new Error(`not a srcset entry: ${part}`);
    return [match[1]!, Number(match[2])];
  });
}

/** Runs `work` on every item, `limit` at a time. */
async function inBatches<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

describeWith([], 'GraphQL image fields in a list', () => {
  let t: TestTessera;
  let spaceId: string;
  const assets: AssetView[] = [];

  beforeAll(async () => {
    t = await startTestTessera();
    spaceId = await createSpace(t, `List ${slug('s')}`);
    // 20 photographs with bytes of their own (two sources, each made a little brighter per copy); every fourth private.
    for (let batch = 0; batch < 4; batch += 1) {
      const made = await Promise.all(
        Array.from({ length: 5 }, async (_, k) => {
          const i = batch * 5 + k;
          const name = i % 2 === 0 ? 'rocket.jpg' : 'chelsea.png';
          const bytes = await sharp(fixture(name))
            .modulate({ brightness: 1 + i / 100 })
            .jpeg({ quality: 90 })
            .toBuffer();
          return upload(t, name, {
            spaceId,
            bytes,
            filename: `photo-${i}.jpg`,
            access: i % 4 === 3 ? 'PRIVATE' : 'PUBLIC',
          });
        }),
      );
      assets.push(...made);
    }
    // Some variants to list.
    for (const asset of assets.slice(0, 6)) {
      for (const width of [100, 200]) dataOf(await transformAsset(t, asset.id, { transform: { width } }));
    }
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('every URL of the list answers 200 with the width it advertises', async () => {
    const res = await t.gql<{ assets: { edges: { node: Node }[] } }>(QUERY, { space: spaceId, first: 20 });
    const nodes = dataOf(res).assets.edges.map((e) => e.node);
    expect(nodes).toHaveLength(20);
    const expected = new Map<string, { width: number; height?: number }>();
    const expect1 = (url: string, width: number, height?: number) => {
      const known = expected.get(url);
      if (known) expect([url, known.width]).toEqual([url, width]);
      expected.set(url, { width, height: height ?? known?.height });
    };
    for (const node of nodes) {
      const scale = (w: number) => Math.max(1, Math.round((node.height * w) / node.width));
      expect1(node.url, 300, scale(300));
      expect([node.image.width, node.image.height]).toEqual([400, scale(400)]);
      expect1(node.image.url, node.image.width, node.image.height);
      for (const [url, width] of entries(node.image.srcSet)) expect1(url, width, scale(width));
      expect(entries(node.image.srcSet).at(-1)).toEqual([node.image.url, 400]);
      expect(node.image.sizes).toBe('(max-width: 400px) 100vw, 400px');
      expect(node.image.placeholder.dataUri).toMatch(/^data:image\/\w+;base64,/);

      expect([node.srcSet.width, node.srcSet.height]).toEqual([node.width, node.height]);
      expect(node.srcSet.aspectRatio).toBeCloseTo(node.width / node.height, 3);
      expect1(node.srcSet.src, node.srcSet.width, node.srcSet.height);
      for (const [url, width] of entries(node.srcSet.srcSet)) expect1(url, width, scale(width));
      const webp = entries(node.srcSet.webpSrcSet!);
      expect(webp.map(([, w]) => w)).toEqual(entries(node.srcSet.srcSet).map(([, w]) => w));
      for (const [url, width] of webp) expect1(url, width, scale(width));

      for (const { node: variant } of node.variants.edges)
        expect1(variant.url, variant.width, variant.height);
      const urls = [node.url, node.image.url, node.srcSet.src, ...node.variants.edges.map((e) => e.node.url)];
      for (const url of urls)
        expect(url).toMatch(
          node.access === 'PRIVATE' ? /\/v1\/priv\/.*\?exp=\d+&kid=\w+&sig=[\w-]{43}$/ : /\/v1\/pub\/[^?]*$/,
        );
    }
    expect(nodes.filter((n) => n.variants.edges.length > 0).length).toBeGreaterThanOrEqual(6);

    const failures: string[] = [];
    await inBatches([...expected], 6, async ([url, size]) => {
      const answer = await fetchImage(url, { accept: 'image/avif,image/webp,*/*' });
      if (answer.status !== 200) {
        failures.push(`${answer.status} ${url}`);
        return;
      }
      const info = await imageInfo(answer.body);
      if (info.width !== size.width || (size.height !== undefined && info.height !== size.height)) {
        failures.push(`${info.width}×${info.height} instead of ${size.width}×${size.height ?? '?'}: ${url}`);
      }
    });
    expect(failures).toEqual([]);
    expect(expected.size).toBeGreaterThan(100);
  });

  it("a box's srcset offers no width the photograph cannot give, and each entry is what it says", async () => {
    const rocket = assets[0]!;
    expect([rocket.width, rocket.height]).toEqual([640, 427]);
    // The largest box of each shape the 640×427 photograph fills without enlarging.
    const cases: [Record<string, unknown>, number][] = [
      [{ width: 400, height: 400 }, 427],
      [{ width: 400, height: 400, fit: 'FILL' }, 427],
      [{ width: 300, height: 100 }, 640],
      [{ width: 400, height: 400, fit: 'CONTAIN' }, 640],
      [{ width: 200, height: 200, crop: { x: 0, y: 0, width: 300, height: 200 } }, 200],
    ];
    for (const [transform, most] of cases) {
      const res = await t.gql<{ asset: { image: { url: string; width: number; srcSet: string } } }>(
        `query($id: ID!, $t: TransformInput) { asset(id: $id) { image(transform: $t) { url width srcSet } } }`,
        { id: rocket.id, t: transform },
      );
      const image = dataOf(res).asset.image;
      const offered = entries(image.srcSet);
      const widest = Math.max(...offered.map(([, w]) => w));
      expect([transform, widest <= Math.max(most, image.width), widest >= image.width]).toEqual([
        transform,
        true,
        true,
      ]);
      for (const [url, width] of offered.slice(-2)) {
        const info = await imageInfo((await fetchImage(url)).body);
        expect([url, info.width]).toEqual([url, width]);
      }
    }
  });

  it('the number of SQL statements does not grow with the page size', async () => {
    const presetSlug = slug('list');
    dataOf(
      await t.gql(`mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }`, {
        input: { spaceId, name: 'List', slug: presetSlug, transform: { width: 150 } },
      }),
    );
    const withPreset = QUERY.replace(
      'id access width height',
      `id access width height preset: url(preset: "${presetSlug}") presetImage: image(preset: "${presetSlug}") { url }`,
    );
    // The counter is the process's: the least of three runs leaves out background work (jobs, metering).
    const count = async (query: string, first: number): Promise<number> => {
      const runs: number[] = [];
      for (let run = 0; run < 3; run += 1) {
        // A new signing key empties the key cache: private URLs then need it once per request.
        dataOf(await t.gql(`mutation { rotateSigningKey { kid } }`));
        await settle(t);
        const before = t.tessera.registry.statements();
        const res = await t.gql<{ assets: { edges: unknown[] } }>(query, { space: spaceId, first });
        expect(dataOf(res).assets.edges).toHaveLength(first);
        runs.push(t.tessera.registry.statements() - before);
      }
      return Math.min(...runs);
    };
    for (const query of [QUERY, withPreset]) {
      const five = await count(query, 5);
      const twenty = await count(query, 20);
      expect({ five, twenty }).toEqual({ five, twenty: five });
      expect(five).toBeLessThan(20);
    }
  });
});
