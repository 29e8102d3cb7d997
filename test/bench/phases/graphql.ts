/**
 * GraphQL: latency of the gallery query at page sizes 10, 50 and 100, and the SQL statements each
 * query executes, counted by the registry's driver logger (`registry.statements()`), which must not
 * grow with the page size. Runs against a Tessera in the bench process, since the count is read
 * from its registry.
 */
import type { Registry } from '../../../src/db/registry.js';
import { gql, type TesseraEndpoint } from '../client.js';
import { percentile } from '../stats.js';

/** The query of the issue: per asset its space, three variants, a URL and a srcset. */
export const GALLERY_QUERY = `query Gallery($space: ID!, $first: Int!) {
  assets(spaceId: $space, first: $first) {
    edges { node {
      space { id }
      variants(first: 3) { edges { node { url } } }
      url(transform: { width: 720, format: WEBP })
      srcSet(widths: [320, 640, 960]) { srcSet }
    } }
  }
}`;

export interface PageSizeResult {
  readonly pageSize: number;
  /** Per run: median latency, ms. */
  readonly medianMs: number[];
  /** Per run: 95th percentile latency, ms. */
  readonly p95Ms: number[];
  /** Per query: SQL statements executed while it was answered. */
  readonly statements: number[];
  /** Assets and variant URLs in the answer (the page really is that size). */
  readonly assets: number;
  readonly variantUrls: number;
}

type Gallery = { assets: { edges: { node: { variants: { edges: unknown[] } } }[] } };

/**
 * `runs` runs of `perRun` sequential queries per page size, after 3 unmeasured ones.
 * @throws Error when a query fails.
 */
export async function measureGraphQL(
  endpoint: TesseraEndpoint,
  registry: Registry,
  pageSizes: readonly number[],
  runs: number,
  perRun: number,
  progress: (line: string) => void,
): Promise<PageSizeResult[]> {
  const results: PageSizeResult[] = [];
  for (const pageSize of pageSizes) {
    const variables = { space: endpoint.spaceId, first: pageSize };
    let last: Gallery | undefined;
    for (let i = 0; i < 3; i += 1) last = await gql<Gallery>(endpoint, GALLERY_QUERY, variables);
    const result: PageSizeResult = {
      pageSize,
      medianMs: [],
      p95Ms: [],
      statements: [],
      assets: last!.assets.edges.length,
      variantUrls: last!.assets.edges.reduce((n, e) => n + e.node.variants.edges.length, 0),
    };
    for (let run = 0; run < runs; run += 1) {
      const latencies: number[] = [];
      for (let i = 0; i < perRun; i += 1) {
        const before = registry.statements();
        const started = performance.now();
        await gql<Gallery>(endpoint, GALLERY_QUERY, variables);
        latencies.push(performance.now() - started);
        result.statements.push(registry.statements() - before);
      }
      result.medianMs.push(percentile(latencies, 50));
      result.p95Ms.push(percentile(latencies, 95));
    }
    progress(
      `graphql first=${pageSize}: ${result.assets} assets, ${result.variantUrls} variant URLs, median ${result.medianMs.map((m) => m.toFixed(1)).join('/')} ms, statements ${[...new Set(result.statements)].join(',')}`,
    );
    results.push(result);
  }
  return results;
}

/** SQL statements an image request runs, per kind of answer. */
export interface ImageStatements {
  /** Per request that rendered a new variant. */
  readonly render: number[];
  /** Per request answered from cache. */
  readonly hit: number[];
}

/**
 * SQL statements of image requests, one at a time: first requests of new variants (renders),
 * then the same URLs again (hits).
 * @throws Error when an answer is not 200 or not from the expected layer.
 */
export async function measureImageStatements(
  registry: Registry,
  stored: () => Promise<void>,
  renderUrls: readonly string[],
): Promise<ImageStatements> {
  const result: ImageStatements = { render: [], hit: [] };
  for (const [kind, urls] of [
    ['render', renderUrls],
    ['hit', renderUrls],
  ] as const) {
    for (const url of urls) {
      const before = registry.statements();
      const response = await fetch(url, { redirect: 'manual' });
      await response.arrayBuffer();
      await stored(); // a render's row is written after its answer: count it with the request
      const layer = response.headers.get('x-cache');
      if (response.status !== 200 || (kind === 'render') !== (layer === 'render'))
        throw new Error(`${url}: ${response.status} from ${layer} for a ${kind}`);
      result[kind].push(registry.statements() - before);
    }
  }
  return result;
}
