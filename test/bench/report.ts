/**
 * The bench's output: the tables printed at the end and the shape of `bench-results.json`.
 */
import type { ColdFormatResult, ColdSystem } from './phases/cold-render.js';
import type { ImageStatements, PageSizeResult } from './phases/graphql.js';
import { REST_SECONDS, type GrowthResult, type MemoryBreakdown, type PeakResult } from './phases/memory.js';
import type { SingleFlightResult } from './phases/single-flight.js';
import { WARM_SERVERS, type WarmResult, type WarmServer } from './phases/warm-hit.js';
import { formatNumber, formatSummary, percentile, summarize, textTable } from './stats.js';
import { verdict, type Target } from './targets.js';

/** Everything one bench run measured, as written to bench-results.json. */
export interface BenchResults {
  readonly startedAt: string;
  readonly seconds: number;
  readonly machine: Record<string, unknown>;
  readonly tessera: {
    readonly registry: string;
    readonly cache: string;
    readonly storage: string;
    readonly maxConcurrentRenders: number;
    readonly avifEffort: number;
    readonly commit: string;
  };
  readonly cold?: {
    readonly concurrency: number;
    readonly runs: number;
    readonly formats: ColdFormatResult[];
  };
  readonly warm?: WarmResult & {
    readonly bytes: number;
    readonly connections: number;
    readonly seconds: number;
    readonly tool: string;
  };
  readonly singleFlight?: SingleFlightResult;
  /** How long the Tessera process took to stop on SIGTERM, and its exit code. */
  readonly shutdown?: { readonly seconds: number; readonly exitCode: number | null };
  readonly peakRss?: PeakResult;
  readonly growth?: GrowthResult;
  readonly graphql?: PageSizeResult[];
  readonly imageStatements?: ImageStatements;
  readonly targets: (Target & { readonly verdict: string })[];
}

const MB = 2 ** 20;
const s = (values: readonly number[], digits = 3) => formatSummary(summarize(values), digits);
const median = (values: readonly number[]) => summarize(values).median;

/** The targets of the issue, evaluated on what was measured. */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  for (const format of results.cold?.formats ?? []) {
    targets.push({
      name: `cold render ${format.format}: Tessera ÷ raw Sharp`,
      comparison: '>=',
      threshold: 0.9,
      unit: '×',
      measured: median(format.vsSharp),
      // what answering over HTTP costs, even with nothing else to do, on these cores
      note:
        format.httpOverSharp.length > 0
          ? `Sharp behind bare Node http: ${formatNumber(median(format.httpOverSharp))} ×`
          : undefined,
    });
    // raw Sharp in-process at the same concurrency is the machine's limit for the operation
    const bound = median(sharpOverIpx(format));
    targets.push({
      name: `cold render ${format.format}: Tessera ÷ ipx`,
      comparison: '>=',
      threshold: 1.5,
      unit: '×',
      measured: median(format.vsIpx),
      note: bound < 1.5 ? `out of reach: raw Sharp itself is ${formatNumber(bound)} × ipx` : undefined,
    });
  }
  const warm = results.warm;
  // nginx runs a worker per core: so does Tessera where it can (WORKERS needs PostgreSQL and Redis)
  const perCore = warm !== undefined && warm.workersVsNginx.length > 0;
  targets.push({
    name: perCore ? 'warm hit: Tessera ÷ nginx, a process per core each' : 'warm hit: Tessera ÷ nginx',
    comparison: '>=',
    threshold: 0.5,
    unit: '×',
    measured:
      warm && warm.vsNginx.length > 0 ? median(perCore ? warm.workersVsNginx : warm.vsNginx) : undefined,
    note:
      warm && warm.vsNginx.length === 0
        ? 'nginx not installed (sh test/bench/setup.sh)'
        : perCore
          ? `one Tessera process: ${formatNumber(median(warm.vsNginx))} ×`
          : warm
            ? 'Tessera as one process (WORKERS needs DATABASE_URL and REDIS_URL)'
            : undefined,
  });
  const graphql = results.graphql ?? [];
  targets.push({
    name: 'GraphQL SQL statements per query, any page size',
    comparison: '<=',
    threshold: 5,
    unit: 'statements',
    measured: graphql.length > 0 ? Math.max(...graphql.map((p) => median(p.statements))) : undefined,
  });
  targets.push({
    name: 'peak RSS, 16 concurrent renders of 24 MP',
    comparison: '<=',
    threshold: 600,
    unit: 'MB',
    measured: results.peakRss ? median(results.peakRss.peak) / MB : undefined,
  });
  targets.push({
    name: 'RSS growth, 1,000 → 10,000 requests',
    comparison: '<=',
    threshold: 10,
    unit: '%',
    measured: results.growth ? results.growth.growth * 100 : undefined,
  });
  targets.push({
    name: 'single-flight: renders for 50 simultaneous requests',
    comparison: '==',
    threshold: 1,
    unit: 'renders',
    // every run must render exactly once: report the run furthest from 1
    measured: results.singleFlight
      ? [...results.singleFlight.renders, ...results.singleFlight.rows].reduce(
          (worst, n) => (Math.abs(n - 1) > Math.abs(worst - 1) ? n : worst),
          1,
        )
      : undefined,
  });
  return targets;
}

/** Raw Sharp ÷ ipx per run: the most any server doing the same operation can reach against ipx. */
export function sharpOverIpx(format: ColdFormatResult): number[] {
  const sharpRuns = format.images.sharp ?? [];
  const ipxRuns = format.images.ipx ?? [];
  return sharpRuns.map((rate, i) => rate / ipxRuns[i]!);
}

const SYSTEM_LABEL: Record<ColdSystem, string> = {
  tessera: 'Tessera',
  sharp: 'raw Sharp',
  'sharp-http': 'Sharp behind Node http',
  ipx: 'ipx',
  'sharp-libjpeg': 'raw Sharp, libjpeg-turbo',
};

/** The tables, as printed. */
export function renderReport(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `Tessera bench, ${results.startedAt} (${results.seconds.toFixed(0)} s)`,
    `machine: ${String(m.cpuModel)} × ${String(m.cpus)}, ${String(m.memoryGB)} GB, load average at start ${String(m.loadAverage)}; ${String(m.os)}`,
    `software: Node ${String(m.node)}, sharp ${String(m.sharp)} (libvips ${String(m.libvips)}), ipx ${String(m.ipx)} (its sharp ${String(m.ipxSharp)}, libvips ${String(m.ipxLibvips)}), nginx ${String(m.nginx ?? 'not installed')}, ${String(m.loadGenerator)}`,
    `Tessera ${results.tessera.commit}: registry ${results.tessera.registry}, cache ${results.tessera.cache}, storage ${results.tessera.storage}, MAX_CONCURRENT_RENDERS ${results.tessera.maxConcurrentRenders}, AVIF_EFFORT ${results.tessera.avifEffort}`,
    'Figures: median (min–max) of the runs.',
    '',
  );
  if (results.cold) {
    const { cold } = results;
    out.push(
      `Cold render: 2725×2225 JPEG → 720×588 (+1 px wide per request: every request renders), concurrency ${cold.concurrency}, ${cold.runs} runs; images/s`,
    );
    const rows = cold.formats.map((f) => [
      f.format,
      s(f.images.tessera ?? []),
      s(f.images.sharp ?? []),
      s(f.images['sharp-http'] ?? []),
      s(f.images.ipx ?? []),
      s(f.vsSharp),
      s(f.httpOverSharp),
      s(f.vsIpx),
      s(sharpOverIpx(f)),
      f.images['sharp-libjpeg'] ? s(f.images['sharp-libjpeg']) : '',
    ]);
    out.push(
      textTable(
        [
          'format',
          'Tessera',
          'raw Sharp',
          'Sharp+http',
          'ipx',
          'Tessera÷Sharp',
          'Sharp+http÷Sharp',
          'Tessera÷ipx',
          'Sharp÷ipx',
          'raw Sharp, libjpeg-turbo q80',
        ],
        rows,
      ),
    );
    const sizes = cold.formats.map(
      (f) =>
        `${f.format}: ${(
          Object.entries(f.outputs) as [ColdSystem, { width: number; height: number; bytes: number }][]
        )
          .map(
            ([system, o]) =>
              `${SYSTEM_LABEL[system]} ${o.width}×${o.height} ${(o.bytes / 1024).toFixed(0)} KB`,
          )
          .join(', ')}`,
    );
    out.push(`outputs at 720 px: ${sizes.join('; ')}`);
    out.push(
      `Tessera per request, median ms (client / server total / render incl. admission and reading the original): ${cold.formats
        .map((f) => {
          const t = f.tesseraTimings;
          const m = (values: number[]) => formatNumber(percentile(values.filter(Number.isFinite), 50));
          return `${f.format} ${m(t.clientMs)} / ${m(t.serverMs)} / ${m(t.renderMs)}`;
        })
        .join('; ')}`,
      `Load generator (the bench process, Node http, kept-alive connections), CPU ms per image asked: ${cold.formats
        .map(
          (f) => `${f.format} Tessera ${s(f.clientCpuMs.tessera ?? [])}, ipx ${s(f.clientCpuMs.ipx ?? [])}`,
        )
        .join('; ')}`,
      '',
    );
  }
  if (results.warm) {
    const { warm } = results;
    out.push(
      `Warm hit: one ${(warm.bytes / 1024).toFixed(1)} KB variant, ${warm.connections} keep-alive connections, ${warm.seconds} s × ${warm.runs.tessera?.length ?? 0} runs, ${warm.tool} in its own process`,
    );
    const label: Record<WarmServer, string> = {
      tessera: 'Tessera, one process',
      workers: `Tessera, WORKERS=auto (${String(results.machine.cpus)} processes)`,
      node: 'Node http, bytes in memory',
      fastify: 'bare Fastify route, bytes in memory',
      nginx: 'nginx, file',
    };
    const rows = WARM_SERVERS.filter((server) => warm.runs[server]).map((server) => {
      const runs = warm.runs[server]!;
      return [
        label[server],
        s(runs.map((r) => r.requestsPerSecond)),
        s(runs.map((r) => r.p50Ms)),
        s(runs.map((r) => r.p99Ms)),
        s(runs.map((r) => r.serverCpuSeconds)),
        s(runs.map((r) => r.generatorCpuSeconds)),
        s(runs.map((r) => r.seconds)),
      ];
    });
    out.push(
      textTable(
        ['server', 'requests/s', 'p50 ms', 'p99 ms', 'server CPU s', 'generator CPU s', 'wall s'],
        rows,
      ),
    );
    out.push(
      `Tessera ÷ Node: ${s(warm.vsNode)}; Tessera ÷ bare Fastify: ${warm.vsFastify.length > 0 ? s(warm.vsFastify) : 'not measured'}; Tessera ÷ nginx: ${warm.vsNginx.length > 0 ? s(warm.vsNginx) : 'not measured'}${warm.workersVsNginx.length > 0 ? `; Tessera with WORKERS ÷ nginx: ${s(warm.workersVsNginx)}` : ''}`,
      '',
    );
  }
  if (results.graphql) {
    out.push(
      'GraphQL: assets(first: N) { space, variants(first: 3) { url }, url(transform), srcSet }, sequential',
    );
    out.push(
      textTable(
        ['page size', 'assets', 'variant URLs', 'median ms', 'p95 ms', 'SQL statements/query'],
        results.graphql.map((p) => [
          String(p.pageSize),
          String(p.assets),
          String(p.variantUrls),
          s(p.medianMs),
          s(p.p95Ms),
          s(p.statements),
        ]),
      ),
      '',
    );
  }
  if (results.imageStatements)
    out.push(
      `SQL statements per image request (one at a time): first request of a new variant ${s(results.imageStatements.render)}, the same URL again ${s(results.imageStatements.hit)}`,
      '',
    );
  if (results.peakRss || results.growth) {
    out.push('Memory of the Tessera process (RSS)');
    const rows: string[][] = [];
    if (results.peakRss)
      rows.push([
        'peak, 16 concurrent renders of 6000×4000 JPEG → 2000 px',
        `${s(results.peakRss.peak.map((b) => b / MB))} MB`,
        `before: ${s(results.peakRss.before.map((b) => b / MB))} MB (${results.peakRss.method})`,
      ]);
    if (results.growth) {
      const g = results.growth;
      const parts = (b: MemoryBreakdown) =>
        `V8 heap ${formatNumber(b.heapUsed / MB)} used of ${formatNumber(b.heapTotal / MB)} MB (young generation ${formatNumber(b.newSpaceTotal / MB)} MB), external ${formatNumber(b.external / MB)} MB`;
      rows.push(
        [
          `after 1,000 mixed requests, at rest (${REST_SECONDS} s)`,
          `${formatNumber(g.after1k / MB)} MB`,
          parts(g.breakdown1k),
        ],
        [
          `after 10,000 mixed requests, at rest (${REST_SECONDS} s)`,
          `${formatNumber(g.after10k / MB)} MB`,
          parts(g.breakdown10k),
        ],
        [
          'growth',
          `${(g.growth * 100).toFixed(1)} %`,
          `${g.seconds.toFixed(0)} s, ${g.unexpected} unexpected answers; ${Object.entries(g.kinds)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}; render requests answered by ${Object.entries(g.renderLayers)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`,
        ],
      );
    }
    out.push(textTable(['measure', 'value', 'detail'], rows), '');
  }
  if (results.singleFlight) {
    const sf = results.singleFlight;
    out.push(
      `Single-flight, 50 simultaneous first requests of one variant, ${sf.renders.length} runs: renders performed ${s(sf.renders)}, variant rows ${s(sf.rows)}, answers saying X-Cache: render ${s(sf.renderAnswers)}, failed answers ${s(sf.failures)}`,
      '',
    );
  }
  if (results.shutdown)
    out.push(
      results.shutdown.exitCode === null
        ? `Shutdown: the Tessera process had not stopped ${results.shutdown.seconds.toFixed(1)} s after SIGTERM and was killed`
        : `Shutdown: the Tessera process stopped ${results.shutdown.seconds.toFixed(1)} s after SIGTERM, exit code ${results.shutdown.exitCode}`,
      '',
    );
  out.push('Targets');
  out.push(
    textTable(
      ['target', 'measured', 'required', 'verdict'],
      results.targets.map((t) => [
        t.name,
        t.measured === undefined ? '—' : `${formatNumber(t.measured)} ${t.unit}`,
        `${t.comparison} ${t.threshold} ${t.unit}`,
        `${t.verdict}${t.note ? ` (${t.note})` : ''}`,
      ]),
    ),
  );
  return out.join('\n');
}

/** Attaches verdicts. */
export function withVerdicts(targets: readonly Target[]): (Target & { verdict: string })[] {
  return targets.map((t) => ({ ...t, verdict: verdict(t) }));
}
