/**
 * `npm start`: runs Tessera. With no environment, everything is embedded (PGlite, local disk,
 * in-process cache and jobs) under $DATA_DIR; on the first embedded start an organization, tenant,
 * space and admin key are created and written to $DATA_DIR/bootstrap.json. With WORKERS above 1,
 * this process is the primary of that many server processes (src/cluster.ts), each of which runs
 * what follows.
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config/index.js';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  if (config.workers > 1 && cluster.isPrimary) {
    // the primary loads only what supervising takes: its workers load the server
    const [{ runPrimary }, { createLogger }] = await Promise.all([
      import('./cluster.js'),
      import('./observability/logger.js'),
    ]);
    process.exit(await runPrimary(config, createLogger(config.logLevel)));
  }
  const [{ createTessera }, { DataDirInUseError }] = await Promise.all([
    import('./app.js'),
    import('./db/embedded-postgres.js'),
  ]);
  let tessera;
  try {
    tessera = await createTessera(config);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { logger } = tessera;

  const shouldBootstrap =
    config.bootstrap === 'always' || (config.bootstrap === 'auto' && config.embedded.registry);
  const { bootstrapFile } = tessera;
  if (shouldBootstrap) {
    const created = await tessera.bootstrapIfEmpty();
    if (created) {
      process.stdout.write(
        [
          '',
          'Tessera created your first organization, tenant and space.',
          `  admin API key: ${created.apiKey}   (also in ${bootstrapFile})`,
          `  space id:      ${created.spaceId}`,
          '',
        ].join('\n'),
      );
    }
  }

  await tessera.http.listen({ host: config.host, port: config.port });
  const address = tessera.http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  // one banner for the server, from its first process
  if (!cluster.isWorker || cluster.worker?.id === 1)
    process.stdout.write(
      [
        '',
        `Tessera is running on http://localhost:${port}`,
        `  GraphQL playground: http://localhost:${port}/graphql`,
        `  registry: ${config.embedded.registry ? `embedded PGlite (${join(config.dataPath, 'registry')})` : 'PostgreSQL'}`,
        `  storage:  ${config.embedded.storage ? `local disk (${join(config.dataPath, 'objects')})` : `S3 bucket ${config.s3Bucket}`}`,
        `  cache:    ${config.embedded.cache ? 'in-process' : 'Redis'}`,
        ...(config.embedded.registry ? [`  credentials: ${bootstrapFile}`] : []),
        '',
      ].join('\n'),
    );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await tessera.close();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Tessera failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
