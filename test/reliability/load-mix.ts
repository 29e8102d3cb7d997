/**
 * The load mix, run with autocannon over loopback against a Tessera in a process of its own:
 * 70 % warm hits (variants rendered before the run), 20 % cold renders (a width never asked before
 * each time), 10 % GraphQL. Every answer is checked as it arrives: warm hits are 200, cold renders
 * 200 or 503 with `Retry-After` (renders shed under overload), GraphQL 200 with data; no other 5xx.
 * The server's resident memory is sampled all along. Shared by the regular suite (about 10 s) and
 * `npm run test:stress` (60 s).
 */
import autocannon from 'autocannon';
import { fixture, type FixtureName } from '../support/fixtures.js';
import { rssOf, sleep, type TesseraProcess } from './processes.js';

export type RequestClass = 'warm' | 'cold' | 'graphql';

/** What one class of requests got. */
export interface ClassStats {
  requests: number;
  statuses: Record<string, number>;
  latencies: number[];
  /** Answers the contract does not allow, with why (the first few). */
  problems: string[];
  problemCount: number;
}

export interface LoadReport {
  readonly seconds: number;
  readonly connections: number;
  readonly requests: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly classes: Readonly<Record<RequestClass, ClassStats>>;
  /** Resident memory of the server, bytes, sampled every 250 ms. */
  readonly rss: readonly number[];
}

/** Paths the run asks for. */
export interface LoadPlan {
  readonly warm: readonly string[];
  /** The next cold path: a transform no one asked for before. */
  nextCold(): string;
  readonly graphql: {
    readonly path: string;
    readonly body: string;
    readonly headers: Record<string, string>;
  };
}

const PHOTOS: readonly FixtureName[] = ['rocket.jpg', 'chelsea.png', 'coffee.png'];

/**
 * Uploads three photographs to the server's first space and renders 6 variants of each, so that
 * the warm set is warm; returns what the run will ask.
 */
export async function prepareLoad(api: TesseraProcess): Promise<LoadPlan> {
  const bases: string[] = [];
  const warm: string[] = [];
  let assetId = '';
  for (const name of PHOTOS) {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: `mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id
          a: url(transform: { width: 160, format: JPG }) b: url(transform: { width: 320, format: JPG })
          c: url(transform: { width: 480, format: JPG }) d: url(transform: { width: 160, format: WEBP })
          e: url(transform: { width: 320, format: WEBP }) f: url(transform: { width: 480, format: WEBP }) } }`,
        variables: { input: { spaceId: api.boot.spaceId, file: null } },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.append('0', new Blob([new Uint8Array(fixture(name))]), name);
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.boot.apiKey}`, 'apollo-require-preflight': 'true' },
      body: form,
    });
    const body = (await response.json()) as {
      data?: { uploadAsset: Record<string, string> };
      errors?: unknown;
    };
    if (!body.data) throw new Error(`upload of ${name} failed: ${JSON.stringify(body.errors)}`);
    const { id, ...urls } = body.data.uploadAsset;
    assetId = id!;
    for (const url of Object.values(urls)) warm.push(new URL(url).pathname);
    bases.push(new URL(urls.a!).pathname.replace(/[^/]+$/, ''));
  }
  for (const path of warm) {
    const answer = await fetch(`${api.baseUrl}${path}`);
    await answer.arrayBuffer();
    if (answer.status !== 200) throw new Error(`warming ${path} answered ${answer.status}`);
  }
  let i = 0;
  return {
    warm,
    nextCold: () => {
      const format = ['jpg', 'webp'][Math.floor(i / bases.length) % 2]!;
      const width = 100 + Math.floor(i / (bases.length * 2));
      return `${bases[i++ % bases.length]}w_${width}-fmt_${format}.${format}`;
    },
    graphql: {
      path: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.boot.apiKey}` },
      body: JSON.stringify({
        query: `query($id: ID!, $s: ID!) {
          asset(id: $id) { id width height image(transform: { width: 300 }) { url srcSet } }
          assets(spaceId: $s, first: 5) { edges { node { id filename } } }
        }`,
        variables: { id: assetId, s: api.boot.spaceId },
      }),
    },
  };
}

const newStats = (): ClassStats => ({
  requests: 0,
  statuses: {},
  latencies: [],
  problems: [],
  problemCount: 0,
});

/** Runs the mix for `seconds` over `connections` connections. */
export async function runLoad(
  api: TesseraProcess,
  plan: LoadPlan,
  options: { seconds: number; connections: number },
): Promise<LoadReport> {
  const classes: Record<RequestClass, ClassStats> = {
    warm: newStats(),
    cold: newStats(),
    graphql: newStats(),
  };
  let n = 0;
  const rss: number[] = [rssOf(api.child.pid)];
  const sampler = setInterval(() => {
    try {
      rss.push(rssOf(api.child.pid));
    } catch {
      // the process is gone: the checks say so
    }
  }, 250);
  const problem = (stats: ClassStats, why: string) => {
    stats.problemCount += 1;
    if (stats.problems.length < 10) stats.problems.push(why);
  };
  let result;
  try {
    result = await autocannon({
      url: api.baseUrl,
      connections: options.connections,
      duration: options.seconds,
      timeout: 30,
      requests: [
        {
          setupRequest: (request, context) => {
            const slot = n++ % 10;
            const kind: RequestClass = slot < 7 ? 'warm' : slot < 9 ? 'cold' : 'graphql';
            context.kind = kind;
            context.started = performance.now();
            if (kind === 'graphql')
              return {
                ...request,
                method: 'POST',
                path: plan.graphql.path,
                headers: plan.graphql.headers,
                body: plan.graphql.body,
              };
            const path = kind === 'warm' ? plan.warm[n % plan.warm.length]! : plan.nextCold();
            context.path = path;
            return { ...request, method: 'GET', path, headers: { accept: 'image/*' }, body: undefined };
          },
          onResponse: (status, body, context, headers) => {
            const kind = context.kind as RequestClass;
            const stats = classes[kind];
            stats.requests += 1;
            stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
            stats.latencies.push(performance.now() - (context.started as number));
            const what = `${kind} ${status} ${String(context.path ?? plan.graphql.path)}`;
            if (status === 503) {
              if (!headers['retry-after']) problem(stats, `${what}: 503 without Retry-After`);
              if (kind !== 'cold') problem(stats, `${what}: a ${kind} request was shed`);
            } else if (status >= 500) problem(stats, `${what}: ${body.slice(0, 200)}`);
            else if (status !== 200) problem(stats, `${what}: ${body.slice(0, 200)}`);
            else if (kind === 'graphql' && body.includes('"errors"'))
              problem(stats, `${what}: ${body.slice(0, 300)}`);
          },
        },
      ],
    });
  } finally {
    clearInterval(sampler);
  }
  return {
    seconds: options.seconds,
    connections: options.connections,
    requests: result.requests.total,
    perSecond: result.requests.average,
    errors: result.errors,
    timeouts: result.timeouts,
    classes,
    rss,
  };
}

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
};
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

/** The report as a markdown table, and a line of totals. */
export function formatLoad(report: LoadReport): string {
  const rows = (Object.entries(report.classes) as [RequestClass, ClassStats][]).map(([kind, s]) => {
    const count = (test: (status: number) => boolean) =>
      Object.entries(s.statuses)
        .filter(([status]) => test(Number(status)))
        .reduce((sum, [, c]) => sum + c, 0);
    return `| ${kind} | ${((s.requests / Math.max(1, report.requests)) * 100).toFixed(0)} % | ${s.requests} | ${count((c) => c === 200)} | ${count((c) => c >= 400 && c < 500)} | ${count((c) => c === 503)} | ${count((c) => c >= 500 && c !== 503)} | ${percentile(s.latencies, 50).toFixed(1)} | ${percentile(s.latencies, 99).toFixed(1)} | ${Math.max(0, ...s.latencies).toFixed(0)} |`;
  });
  const settled = report.rss.slice(Math.floor(report.rss.length / 4));
  return [
    '| class | share | requests | 200 | 4xx | 503 | other 5xx | p50 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `${report.requests} requests in ${report.seconds} s over ${report.connections} connections (${report.perSecond.toFixed(0)} req/s); ` +
      `errors ${report.errors}, timeouts ${report.timeouts}; server RSS ${mb(report.rss[0]!)} at start, ` +
      `${mb(settled[0] ?? 0)} after the first quarter, ${mb(report.rss.at(-1)!)} at the end, ${mb(Math.max(...report.rss))} at most.`,
  ].join('\n');
}

/**
 * What the contract forbids in a report: errors, timeouts, unexpected statuses, shed warm hits or
 * GraphQL, 503 without Retry-After, and resident memory still growing in the last half of the run
 * (more than 25 % and 64 MB over the first quarter's end).
 */
export function loadProblems(report: LoadReport): string[] {
  const problems: string[] = [];
  if (report.errors > 0 || report.timeouts > 0)
    problems.push(`${report.errors} connection errors, ${report.timeouts} timeouts`);
  for (const [kind, stats] of Object.entries(report.classes)) {
    if (stats.requests === 0) problems.push(`no ${kind} requests were made`);
    if (stats.problemCount > 0)
      problems.push(`${kind}: ${stats.problemCount} bad answers, e.g. ${stats.problems.join(' | ')}`);
  }
  const quarter = report.rss[Math.floor(report.rss.length / 4)] ?? report.rss[0]!;
  const end = report.rss.at(-1)!;
  if (end > quarter * 1.25 && end - quarter > 64 * 1048576)
    problems.push(`server RSS grew from ${mb(quarter)} to ${mb(end)} after the first quarter of the run`);
  return problems;
}

/** A short warm-up, so that the measured run starts with warm code paths. */
export async function warmUp(api: TesseraProcess, plan: LoadPlan, seconds = 2): Promise<void> {
  await runLoad(api, plan, { seconds, connections: 4 });
  await sleep(200);
}
