/**
 * Several server processes sharing one port (`WORKERS`), as Node's cluster module runs them: this
 * primary process forks the workers, each a whole Tessera on the same PostgreSQL, Redis and
 * storage, and supervises them. The first worker starts alone (it applies migrations and, when
 * asked, creates the first organization) and the others once it listens. A worker that dies is
 * replaced, sooner the longer it had run; SIGTERM or SIGINT stops every worker gracefully and the
 * primary exits 0 when all of them did. `/metrics`, asked of any worker, answers for all of them.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from './config/index.js';
import type { Logger } from './observability/logger.js';
import { isMetricsRequest, type MetricsAnswer } from './observability/metrics.js';

/** How long the primary waits for every worker to stop before it kills those left. */
const STOP_TIMEOUT_MS = 20_000;
/** A worker that ran this long before it died is replaced at once; one that died sooner waits. */
const STEADY_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Runs the primary process until it is stopped. Resolves with the process's exit code: 0 when every
 * worker stopped gracefully, 1 when the first worker could not start or a worker had to be killed.
 */
export function runPrimary(config: Config, logger: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const started = new Map<Worker, number>();
  let stopping = false;
  let exitCode = 0;
  let ready = false;
  let quickDeaths = 0;
  let settle: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
  });

  const fork = (): Worker => {
    const worker = cluster.fork();
    started.set(worker, Date.now());
    return worker;
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsRequest(message)) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: 'tessera:metrics', id: message.id, ...answer });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    const ranMs = Date.now() - (started.get(worker) ?? Date.now());
    started.delete(worker);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (started.size === 0) settle(exitCode);
      return;
    }
    if (!ready) {
      logger.error({ worker: worker.id, code, signal }, 'a worker exited before the server was ready');
      void stop(1);
      return;
    }
    quickDeaths = ranMs < STEADY_MS ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** quickDeaths);
    logger.error(
      { worker: worker.id, code, signal, ranMs, restartInMs: delay },
      'worker exited; replacing it',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    if (started.size === 0) {
      settle(exitCode);
      return;
    }
    for (const worker of started.keys()) worker.process.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const worker of started.keys()) worker.process.kill('SIGKILL');
      settle(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  // The first worker alone, then the others once it listens.
  const first = fork();
  const listening = (worker: Worker): Promise<void> =>
    new Promise((resolve) => worker.once('listening', () => resolve()));
  void listening(first).then(async () => {
    if (stopping) return;
    const others = Array.from({ length: config.workers - 1 }, fork);
    await Promise.all(others.map(listening));
    if (stopping) return;
    ready = true;
    logger.info({ workers: config.workers }, 'workers ready');
    process.stdout.write(`Tessera runs ${config.workers} worker processes on port ${config.port}.\n`);
  });
  return done;
}
