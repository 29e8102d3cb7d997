/**
 * The gallery query (a page of assets, each with its space, three variants, a URL and a srcset)
 * runs a fixed, small number of SQL statements whatever the page size: the space is read once with
 * its path slugs (and serves the tenancy check, `Asset.space` and every URL), the variants of the
 * whole page in one query, the space's presets once. Counted by `registry.statements()`, as the
 * bench counts it, on a page with variants (preset URLs among them), private assets (signed URLs)
 * and presets; the tenancy rule still answers NOT_FOUND for a space the caller may not see.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { bootstrapOrganization, type BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { GALLERY_QUERY } from '../bench/phases/graphql.js';
import { dataOf, transformAsset, upload } from '../delivery/delivery-client.js';
import { createSpace, JOBS_OFF } from '../ingestion/ingest-client.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';

/** The same page as a front end lists it: ids, the space, variants, a URL and a responsive srcset. */
const LISTING_QUERY = `query Gallery($space: ID!, $first: Int!) {
  assets(spaceId: $space, first: $first) {
    edges { node {
      id
      space { id }
      variants(first: 3) { edges { node { url } } }
      url(transform: { width: 400 })
      srcSet(widths: [320, 640]) { src srcSet }
    } }
  }
}`;

/** Statements the gallery query may run at any page size. */
const MOST_STATEMENTS = 5;

const ASSETS = 55;
const isPrivate = (i: number): boolean => i % 5 === 2;
const hasVariants = (i: number): boolean => i % 3 === 0;

interface Page {
  assets: {
    edges: {
      node: { space?: { id: string }; url: string; variants: { edges: { node: { url: string } }[] } };
    }[];
  };
}

describe('SQL statements of the gallery query', () => {
  let t: TestTessera;
  let other: BootstrapResult;
  let spaceId: string;
  /** The newest asset, with five variants. */
  let manyVariants: string;

  beforeAll(async () => {
    // No background jobs: only the query under test reaches the registry while it is counted.
    t = await startTestTessera({ env: JOBS_OFF });
    other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Globex',
    });
    spaceId = await createSpace(t, 'Gallery');
    dataOf(
      await t.gql(`mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }`, {
        input: { spaceId, name: 'Card', slug: 'card', transform: { width: 240 } },
      }),
    );
    // Images of their own bytes (one colour each), every fifth private, uploaded oldest first.
    for (let batch = 0; batch < ASSETS; batch += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, ASSETS - batch) }, async (_, k) => {
          const i = batch + k;
          const bytes = await sharp({
            create: {
              width: 1000,
              height: 667,
              channels: 3,
              background: { r: i * 4, g: 120, b: 250 - i * 4 },
            },
          })
            .png()
            .toBuffer();
          return upload(t, 'rocket.jpg', {
            spaceId,
            bytes,
            filename: `gallery-${i}.png`,
            access: isPrivate(i) ? 'PRIVATE' : 'PUBLIC',
          });
        }),
      );
    }
    // Variants on every third asset: one of the preset (its URL is the preset's), one ad hoc.
    const listed = await t.gql<{ assets: { edges: { node: { id: string; filename: string } }[] } }>(
      `query($space: ID!) { assets(spaceId: $space, first: 100) { edges { node { id filename } } } }`,
      { space: spaceId },
    );
    for (const { node } of dataOf(listed).assets.edges) {
      if (!hasVariants(Number(/gallery-(\d+)/.exec(node.filename)![1]))) continue;
      dataOf(await transformAsset(t, node.id, { preset: 'card' }));
      dataOf(await transformAsset(t, node.id, { transform: { width: 120 } }));
      if (node.filename === `gallery-${ASSETS - 1}.png`) {
        manyVariants = node.id;
        for (const width of [160, 200, 280])
          dataOf(await transformAsset(t, node.id, { transform: { width } }));
      }
    }
  }, 180_000);
  afterAll(async () => t?.close());

  /** The fewest statements of three runs (after one that fills the key caches), checking each page. */
  async function statementsOf(query: string, first: number): Promise<number> {
    dataOf(await t.gql<Page>(query, { space: spaceId, first }));
    const runs: number[] = [];
    for (let run = 0; run < 3; run += 1) {
      const before = t.tessera.registry.statements();
      const res = await t.gql<Page>(query, { space: spaceId, first });
      runs.push(t.tessera.registry.statements() - before);
      const edges = dataOf(res).assets.edges;
      expect(edges).toHaveLength(first);
      // The page really holds what makes the query work: variants, preset URLs, signed URLs.
      const variantUrls = edges.flatMap((e) => e.node.variants.edges.map((v) => v.node.url));
      expect(variantUrls.length).toBeGreaterThanOrEqual(first / 3);
      expect(variantUrls.some((url) => url.includes('/preset_card.'))).toBe(true);
      const signed = edges.map((e) => e.node.url).filter((url) => url.includes('/v1/priv/'));
      expect(signed.length).toBeGreaterThanOrEqual(Math.floor(first / 5));
      for (const url of signed) expect(new URL(url).search).not.toBe('');
      if (edges[0]!.node.space) expect(edges.every((e) => e.node.space!.id === spaceId)).toBe(true);
    }
    return Math.min(...runs);
  }

  it.each([
    ['the bench query', GALLERY_QUERY],
    ['the listing query', LISTING_QUERY],
  ])('%s runs at most 5 statements, as many for 50 assets as for 10', async (_name, query) => {
    const ten = await statementsOf(query, 10);
    const fifty = await statementsOf(query, 50);
    expect({ ten, fifty }).toEqual({ ten, fifty: ten });
    expect(ten).toBeLessThanOrEqual(MOST_STATEMENTS);
  });

  it("pages through an asset's variants after a cursor, oldest first, as one list gives them", async () => {
    type Variants = {
      asset: {
        variants: {
          edges: { cursor: string; node: { width: number } }[];
          pageInfo: { hasNextPage: boolean };
        };
      };
    };
    const page = async (first: number, after: string | null) =>
      dataOf(
        await t.gql<Variants>(
          `query($id: ID!, $first: Int, $after: String) { asset(id: $id) { variants(first: $first, after: $after) {
            edges { cursor node { width } } pageInfo { hasNextPage } } } }`,
          { id: manyVariants, first, after },
        ),
      ).asset.variants;
    const all = (await page(10, null)).edges.map((e) => e.node.width);
    expect(all).toEqual([240, 120, 160, 200, 280]);
    const paged: number[] = [];
    let after: string | null = null;
    for (let more = true; more;) {
      const { edges, pageInfo } = await page(2, after);
      paged.push(...edges.map((e) => e.node.width));
      after = edges.at(-1)?.cursor ?? null;
      more = pageInfo.hasNextPage;
    }
    expect(paged).toEqual(all);
  });

  it('still answers NOT_FOUND for a space of another organization, as for an unknown one', async () => {
    const foreign = await t.gql<Page>(GALLERY_QUERY, { space: other.spaceId, first: 10 });
    const unknown = await t.gql<Page>(GALLERY_QUERY, {
      space: 'spc_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
      first: 10,
    });
    expect([codes(foreign), foreign.data ?? null]).toEqual([['NOT_FOUND'], null]);
    expect([codes(unknown), unknown.data ?? null]).toEqual([['NOT_FOUND'], null]);
    expect(foreign.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    const theirs = await t.gql<Page>(GALLERY_QUERY, { space: spaceId, first: 10 }, other.apiKey);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
  });
});
