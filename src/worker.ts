/**
 * `npm run worker`: a job worker process (eager presets, cleanup, pruning) for a Tessera whose
 * queue is in Redis. Run as many as the load needs, on any machine that reaches the same
 * PostgreSQL, Redis and storage as the API.
 */
import { createTessera } from './app.js';
import { ConfigError, loadConfig } from './config/index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.redisUrl === undefined) {
    process.stderr.write(
      'The worker needs REDIS_URL: without it, `npm start` runs the jobs in its own process.\n',
    );
    process.exit(1);
  }
  const tessera = await createTessera(config, { worker: true });
  tessera.logger.info({ concurrency: config.workerConcurrency }, 'worker ready');
  process.stdout.write(`Tessera worker running (${config.workerConcurrency} at a time).\n`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await tessera.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Tessera worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
