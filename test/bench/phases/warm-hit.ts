/**
 * Warm hit: requests a second for one already-rendered variant, from Tessera, from the least a
 * Node server can do (the same bytes from memory), from a bare Fastify route (Tessera's
 * framework, same bytes from memory) and from nginx (the same file from disk), with a load
 * generator in its own process whose CPU time is reported beside each run, and the CPU time each
 * server used.
 */
import { httpLoad, type LoadResult, type LoadTool } from '../load.js';
import { cpuSecondsOf, processTree } from '../processes.js';

/** `workers`: Tessera as one process per core (WORKERS), as nginx runs one worker per core. */
export type WarmServer = 'tessera' | 'workers' | 'node' | 'fastify' | 'nginx';

export const WARM_SERVERS: readonly WarmServer[] = ['tessera', 'workers', 'node', 'fastify', 'nginx'];

export interface WarmTargets {
  /** Each server's URL and process id (its children's CPU is counted too). */
  readonly servers: Partial<Record<WarmServer, { url: string; pid: number }>>;
  readonly tool: LoadTool;
  readonly connections: number;
  readonly seconds: number;
  readonly runs: number;
}

export interface WarmRun extends LoadResult {
  /** CPU time the server used during the run, seconds. */
  readonly serverCpuSeconds: number;
}

export interface WarmResult {
  readonly runs: Partial<Record<WarmServer, WarmRun[]>>;
  /** Tessera ÷ nginx, per run. */
  readonly vsNginx: number[];
  /** Tessera with a process per core ÷ nginx, per run (when measured). */
  readonly workersVsNginx: number[];
  /** Tessera ÷ the Node memory server, per run. */
  readonly vsNode: number[];
  /** Tessera ÷ the bare Fastify route, per run. */
  readonly vsFastify: number[];
}

const treeCpu = (pid: number): number =>
  processTree(pid).reduce((sum, p) => {
    try {
      return sum + cpuSecondsOf(p);
    } catch {
      return sum;
    }
  }, 0);

/**
 * Measures each server `runs` times, in a rotating order, after a 1 s warm-up each.
 * @throws Error when a run has failed requests (a refused or broken answer is not a hit).
 */
export async function measureWarmHit(
  targets: WarmTargets,
  progress: (line: string) => void,
): Promise<WarmResult> {
  const servers = WARM_SERVERS.filter((s) => targets.servers[s] !== undefined);
  for (const server of servers)
    await httpLoad({
      url: targets.servers[server]!.url,
      connections: targets.connections,
      seconds: 1,
      tool: targets.tool,
    });
  const result: WarmResult = { runs: {}, vsNginx: [], workersVsNginx: [], vsNode: [], vsFastify: [] };
  for (let run = 0; run < targets.runs; run += 1) {
    const rates: Partial<Record<WarmServer, number>> = {};
    for (let i = 0; i < servers.length; i += 1) {
      const server = servers[(i + run) % servers.length]!;
      const { url, pid } = targets.servers[server]!;
      const cpuBefore = treeCpu(pid);
      const load = await httpLoad({
        url,
        connections: targets.connections,
        seconds: targets.seconds,
        tool: targets.tool,
      });
      const serverCpuSeconds = treeCpu(pid) - cpuBefore;
      if (load.failures > 0) throw new Error(`${server}: ${load.failures} failed requests in a warm-hit run`);
      rates[server] = load.requestsPerSecond;
      (result.runs[server] ??= []).push({ ...load, serverCpuSeconds });
      progress(
        `warm run ${run + 1}/${targets.runs} ${server}: ${Math.round(load.requestsPerSecond)} req/s, server CPU ${serverCpuSeconds.toFixed(2)} s, generator CPU ${load.generatorCpuSeconds.toFixed(2)} s`,
      );
    }
    if (rates.nginx !== undefined) result.vsNginx.push(rates.tessera! / rates.nginx);
    if (rates.nginx !== undefined && rates.workers !== undefined)
      result.workersVsNginx.push(rates.workers / rates.nginx);
    if (rates.node !== undefined) result.vsNode.push(rates.tessera! / rates.node);
    if (rates.fastify !== undefined) result.vsFastify.push(rates.tessera! / rates.fastify);
  }
  return result;
}
