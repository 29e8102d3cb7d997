/**
 * Load generation. Renders are driven from the bench process itself (a render costs tens of
 * milliseconds; a request costs the client microseconds); cache hits, where the client's cost is
 * of the order of the server's, are driven by a load generator in a process of its own (wrk, or
 * autocannon), and the CPU time it used is reported beside its figures.
 */
import { createRequire } from 'node:module';
import { runTimed } from './processes.js';

/**
 * Runs `count` tasks, at most `concurrency` at once, each started as soon as one finishes.
 * @returns wall-clock seconds from the first start to the last end.
 */
export async function closedLoop(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await task(index);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

export type LoadTool = 'wrk' | 'autocannon';

/** One run of the load generator against one URL. */
export interface LoadResult {
  readonly tool: LoadTool;
  /** Completed requests a second. */
  readonly requestsPerSecond: number;
  /** Latency percentiles, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers other than 2xx/3xx plus socket errors and timeouts: a valid run has none. */
  readonly failures: number;
  /** CPU time the generator used (user + system), seconds. */
  readonly generatorCpuSeconds: number;
  readonly seconds: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly tool: LoadTool;
  /** Request headers, e.g. `accept`. */
  readonly headers?: Readonly<Record<string, string>>;
}

const requireHere = createRequire(import.meta.url);

function wrkMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * factor;
}

/**
 * Keeps `connections` keep-alive connections busy on `url` for `seconds`.
 * @throws Error when the generator fails or prints nothing it can read.
 */
export async function httpLoad(options: LoadOptions): Promise<LoadResult> {
  const headerArgs = (flag: string) =>
    Object.entries(options.headers ?? {}).flatMap(([name, value]) => [flag, `${name}: ${value}`]);
  if (options.tool === 'wrk') {
    const run = await runTimed('wrk', [
      '-t1',
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--latency',
      ...headerArgs('-H'),
      options.url,
    ]);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
    if (run.code !== 0 || !rps)
      throw new Error(`wrk failed (${String(run.code)}): ${run.stderr || run.stdout}`);
    const pct = (p: string) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(run.stdout)?.[1] ?? '');
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(run.stdout)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(run.stdout);
    const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
    return {
      tool: 'wrk',
      requestsPerSecond: Number(rps[1]),
      p50Ms: pct('50'),
      p99Ms: pct('99'),
      failures: non2xx + socketErrors,
      generatorCpuSeconds: run.cpuSeconds,
      seconds: run.wallSeconds,
    };
  }
  const run = await runTimed(process.execPath, [
    requireHere.resolve('autocannon/autocannon.js'),
    '--json',
    '--no-progress',
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    ...headerArgs('-H'),
    options.url,
  ]);
  let result: {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  try {
    result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as typeof result;
  } catch {
    throw new Error(`autocannon failed (${String(run.code)}): ${run.stderr || run.stdout}`);
  }
  return {
    tool: 'autocannon',
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    generatorCpuSeconds: run.cpuSeconds,
    seconds: run.wallSeconds,
  };
}
