/**
 * Single-flight: 50 simultaneous first requests of one variant must cause one render. Counted
 * three ways: answers saying `X-Cache: render`, renders the process performed (its
 * `tessera_render_duration_seconds` count, a delta), and variant rows of that width and format.
 */
import { gql, type TesseraEndpoint } from '../client.js';

export interface SingleFlightResult {
  /** Per run: answers with `X-Cache: render`. */
  readonly renderAnswers: number[];
  /** Per run: renders performed by the process (metrics delta). */
  readonly renders: number[];
  /** Per run: variant rows of the variant. */
  readonly rows: number[];
  /** Per run: answers that were not 200. */
  readonly failures: number[];
}

/** Renders performed so far by the process behind `baseUrl` (sum of the render histogram's counts). */
export async function rendersPerformed(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^tessera_render_duration_seconds_count(?:\{[^}]*\})? (\d+)/gm))
    total += Number(match[1]);
  return total;
}

async function variantRows(
  endpoint: TesseraEndpoint,
  assetId: string,
  width: number,
  format: string,
): Promise<number> {
  let rows = 0;
  let after: string | null = null;
  for (;;) {
    const data: {
      asset: {
        variants: {
          edges: { node: { width: number; format: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      };
    } = await gql(
      endpoint,
      `query($id: ID!, $after: String) { asset(id: $id) { variants(first: 100, after: $after) {
         edges { node { width format } } pageInfo { hasNextPage endCursor } } } }`,
      { id: assetId, after },
    );
    rows += data.asset.variants.edges.filter(
      (e) => e.node.width === width && e.node.format === format,
    ).length;
    if (!data.asset.variants.pageInfo.hasNextPage) return rows;
    after = data.asset.variants.pageInfo.endCursor;
  }
}

/**
 * `runs` times: 50 requests at once for a variant never asked for before.
 * @param urlAt the canonical URL of the variant of width `width` (WebP).
 */
export async function measureSingleFlight(
  endpoint: TesseraEndpoint,
  assetId: string,
  urlAt: (width: number) => string,
  runs: number,
  progress: (line: string) => void,
): Promise<SingleFlightResult> {
  const result: SingleFlightResult = { renderAnswers: [], renders: [], rows: [], failures: [] };
  for (let run = 0; run < runs; run += 1) {
    const width = 1200 + run;
    const before = await rendersPerformed(endpoint.baseUrl);
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await fetch(urlAt(width), { redirect: 'manual' });
        await response.arrayBuffer();
        return { status: response.status, layer: response.headers.get('x-cache') };
      }),
    );
    const renders = (await rendersPerformed(endpoint.baseUrl)) - before;
    const renderAnswers = answers.filter((a) => a.layer === 'render').length;
    const failures = answers.filter((a) => a.status !== 200).length;
    // The answer does not wait for the variant's row: give it a moment to be written.
    let rows = await variantRows(endpoint, assetId, width, 'webp');
    for (let wait = 0; rows === 0 && wait < 40; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await variantRows(endpoint, assetId, width, 'webp');
    }
    result.renderAnswers.push(renderAnswers);
    result.renders.push(renders);
    result.rows.push(rows);
    result.failures.push(failures);
    progress(
      `single-flight run ${run + 1}/${runs}: ${renderAnswers} render answers, ${renders} renders, ${rows} rows, ${failures} failures`,
    );
  }
  return result;
}
