/**
 * Memory of the Tessera process: its peak RSS while 16 renders of a 24-megapixel JPEG are asked
 * for at once, and its RSS after 1,000 and after 10,000 requests of a mixed load.
 */
import { gql, type TesseraEndpoint } from '../client.js';
import { closedLoop } from '../load.js';
import { peakRssOf, resetPeakRss, rssOf, sampleRss } from '../processes.js';

export interface PeakResult {
  /** Per run: RSS before the renders, bytes. */
  readonly before: number[];
  /** Per run: highest RSS during them, bytes. */
  readonly peak: number[];
  /** How the peak was read: the kernel's high-water mark, or sampling every 10 ms. */
  readonly method: 'VmHWM' | 'sampled';
}

/**
 * `runs` times: 16 simultaneous requests, each a new 2000-px-wide JPEG of the large photograph.
 * @throws Error when a request fails.
 */
export async function measurePeakRss(
  pid: number,
  urlAt: (width: number) => string,
  runs: number,
  progress: (line: string) => void,
): Promise<PeakResult> {
  const result: PeakResult = { before: [], peak: [], method: 'VmHWM' };
  for (let run = 0; run < runs; run += 1) {
    const before = rssOf(pid);
    const hwm = resetPeakRss(pid);
    if (!hwm) (result as { method: PeakResult['method'] }).method = 'sampled';
    const sampler = sampleRss(pid, 10);
    const answers = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const response = await fetch(urlAt(2000 + run * 16 + i), { redirect: 'manual' });
        await response.arrayBuffer();
        return { status: response.status, layer: response.headers.get('x-cache') };
      }),
    );
    const sampled = sampler.stop();
    const bad = answers.filter((a) => a.status !== 200 || a.layer !== 'render');
    if (bad.length > 0)
      throw new Error(`memory run: ${bad.length} of 16 renders failed: ${JSON.stringify(bad[0])}`);
    const peak = hwm ? Math.max(peakRssOf(pid), sampled) : sampled;
    result.before.push(before);
    result.peak.push(peak);
    progress(
      `peak RSS run ${run + 1}/${runs}: ${(peak / 2 ** 20).toFixed(0)} MB (before ${(before / 2 ** 20).toFixed(0)} MB)`,
    );
  }
  return result;
}

/** The URLs and queries the mixed load is made of. */
export interface MixedLoad {
  readonly endpoint: TesseraEndpoint;
  /** Variants that exist (eager presets): cache hits. */
  readonly hits: readonly string[];
  /** Originals of small assets. */
  readonly originals: readonly string[];
  /** A small asset's transform URL with `{w}` for a width never asked before. */
  readonly renderTemplates: readonly string[];
  /** An image URL of an asset that does not exist. */
  readonly missing: string;
}

/** Where a Node process's memory is, from its Prometheus default metrics, bytes. */
export interface MemoryBreakdown {
  readonly rss: number;
  /** V8 heap in use. */
  readonly heapUsed: number;
  /** V8 heap reserved. */
  readonly heapTotal: number;
  /** Of which the young generation (new objects, sized by V8 to the allocation rate). */
  readonly newSpaceTotal: number;
  /** Memory of Buffers and other objects outside the V8 heap that V8 knows of. */
  readonly external: number;
}

/** The process's memory as its /metrics report it (the `tessera_` default metrics). */
export async function memoryBreakdown(baseUrl: string): Promise<MemoryBreakdown> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^tessera_${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    rss: value('process_resident_memory_bytes'),
    heapUsed: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    newSpaceTotal: value('nodejs_heap_space_size_total_bytes\\{space="new"\\}'),
    external: value('nodejs_external_memory_bytes'),
  };
}

export interface GrowthResult {
  /** Median of 5 RSS readings 200 ms apart after the first 1,000 requests, bytes. */
  readonly after1k: number;
  /** The same after 10,000. */
  readonly after10k: number;
  /** The process's own account of its memory at both points. */
  readonly breakdown1k: MemoryBreakdown;
  readonly breakdown10k: MemoryBreakdown;
  /** Answers by layer (`X-Cache`) of the requests meant to render. */
  readonly renderLayers: Record<string, number>;
  /** (after10k − after1k) ÷ after1k. */
  readonly growth: number;
  /** Requests of each kind, and answers that were not what the kind expects. */
  readonly kinds: Record<string, number>;
  readonly unexpected: number;
  readonly seconds: number;
}

/** How long the server rests before its RSS is read: V8 gives back collected heap only after some idle seconds. */
export const REST_SECONDS = 20;

/**
 * The process's RSS at rest: the median of the readings of the last 2 s of a rest of
 * `REST_SECONDS` without requests. (Read at once, RSS holds however much garbage the last
 * requests left uncollected, which swings by tens of MB from one run to the next; at rest V8's
 * memory reducer has collected it and a leak is what remains.)
 */
const settledRss = async (pid: number): Promise<number> => {
  const readings: number[] = [];
  const count = REST_SECONDS * 2;
  for (let i = 0; i < count; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (i >= count - 4) readings.push(rssOf(pid));
  }
  return readings.sort((a, b) => a - b)[2]!;
};

/**
 * 10,000 requests, 8 at a time, mixed as a gallery's traffic: 73 % hits of existing variants, 10 %
 * conditional hits (304), 2 % GraphQL pages (20 assets with URLs, srcsets and variants), 5 %
 * originals, 5 % unknown images (404), 5 % new small variants (renders).
 */
export async function measureRssGrowth(
  pid: number,
  load: MixedLoad,
  progress: (line: string) => void,
): Promise<GrowthResult> {
  const kinds: Record<string, number> = {};
  const renderLayers: Record<string, number> = {};
  let unexpected = 0;
  const etags = new Map<string, string>();
  let renderWidth = 60;
  const query = `query($space: ID!) { assets(spaceId: $space, first: 20) { edges { node {
    space { id } variants(first: 3) { edges { node { url } } }
    url(transform: { width: 720, format: WEBP }) srcSet(widths: [320, 640, 960]) { srcSet } } } } }`;
  const one = async (i: number): Promise<void> => {
    const slot = i % 100;
    const pick = <T>(list: readonly T[]) => list[(i * 7919) % list.length]!;
    let kind: string;
    let ok: boolean;
    if (slot < 73) {
      kind = 'hit';
      const url = pick(load.hits);
      const response = await fetch(url);
      await response.arrayBuffer();
      const etag = response.headers.get('etag');
      if (etag) etags.set(url, etag);
      ok = response.status === 200;
    } else if (slot < 83) {
      kind = 'not-modified';
      const url = pick(load.hits);
      const response = await fetch(url, { headers: { 'if-none-match': etags.get(url) ?? '"none"' } });
      await response.arrayBuffer();
      ok = response.status === 304 || (response.status === 200 && !etags.has(url));
    } else if (slot < 85) {
      kind = 'graphql';
      ok = await gql(load.endpoint, query, { space: load.endpoint.spaceId }).then(
        () => true,
        () => false,
      );
    } else if (slot < 90) {
      kind = 'original';
      const response = await fetch(pick(load.originals));
      await response.arrayBuffer();
      ok = response.status === 200;
    } else if (slot < 95) {
      kind = 'not-found';
      const response = await fetch(load.missing);
      await response.arrayBuffer();
      ok = response.status === 404;
    } else {
      kind = 'render';
      renderWidth = renderWidth >= 310 ? 60 : renderWidth + 1;
      const template = load.renderTemplates[Math.floor(i / 100) % load.renderTemplates.length]!;
      const response = await fetch(template.replace('{w}', String(renderWidth)), { redirect: 'manual' });
      await response.arrayBuffer();
      ok = response.status === 200;
      const layer = response.headers.get('x-cache') ?? String(response.status);
      renderLayers[layer] = (renderLayers[layer] ?? 0) + 1;
    }
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (!ok) unexpected += 1;
  };
  const started = performance.now();
  await closedLoop(1000, 8, one);
  const after1k = await settledRss(pid);
  const breakdown1k = await memoryBreakdown(load.endpoint.baseUrl);
  progress(`mixed load: RSS after 1,000 requests ${(after1k / 2 ** 20).toFixed(0)} MB`);
  await closedLoop(9000, 8, (i) => one(i + 1000));
  const after10k = await settledRss(pid);
  const breakdown10k = await memoryBreakdown(load.endpoint.baseUrl);
  progress(`mixed load: RSS after 10,000 requests ${(after10k / 2 ** 20).toFixed(0)} MB`);
  return {
    after1k,
    after10k,
    growth: (after10k - after1k) / after1k,
    breakdown1k,
    breakdown10k,
    renderLayers,
    kinds,
    unexpected,
    seconds: (performance.now() - started) / 1000,
  };
}
