import type { Logger as TypeOrmLogger } from 'typeorm';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { entities } from './entities/index.js';

export interface RegistryOptions {
  /** A PostgreSQL URL; when absent, PGlite is started on `pgliteDir`. */
  databaseUrl?: string;
  /** PGlite data directory, or `'memory'`. Used only without `databaseUrl`. */
  pgliteDir?: string;
  /** Connections in the pool (PGlite always uses one: it has a single session). */
  poolSize?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Receives query errors; statements are counted, not logged. */
  onQueryError?: (error: unknown, query: string) => void;
}

/** The metadata store: a TypeORM data source on PostgreSQL or PGlite. */
export interface Registry {
  readonly kind: 'postgres' | 'pglite';
  readonly dataSource: DataSource;
  /** SQL statements executed so far (for tests and benchmarks: N+1 shows up here). */
  statements(): number;
  /** Throws when the database cannot answer. */
  check(): Promise<void>;
  close(): Promise<void>;
}

class CountingLogger implements TypeOrmLogger {
  count = 0;
  constructor(private readonly onError?: (error: unknown, query: string) => void) {}
  logQuery(): void {
    this.count += 1;
  }
  logQueryError(error: string | Error, query: string): void {
    this.onError?.(error, query);
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** Builds the data source without connecting (the CLI for TypeORM needs exactly this). */
export function createDataSource(url: string, poolSize: number, logger?: TypeOrmLogger): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: logger === undefined ? false : ['query', 'error'],
    logger,
    extra: { max: poolSize, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 },
  });
}

/**
 * Opens the registry and applies migrations.
 * @throws when the database is unreachable or a migration fails.
 */
export async function openRegistry(options: RegistryOptions): Promise<Registry> {
  let embedded: EmbeddedPostgres | undefined;
  let url = options.databaseUrl;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres(options.pgliteDir ?? 'memory');
    url = embedded.url;
  }
  const logger = new CountingLogger(options.onQueryError);
  // PGlite has one session: a single connection keeps each transaction and each extended-protocol
  // exchange whole, and callers queue for it as they would for a busy server.
  const poolSize = embedded ? 1 : (options.poolSize ?? 10);
  const dataSource = createDataSource(url, poolSize, logger);
  try {
    await dataSource.initialize();
    if (options.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.close().catch(() => undefined);
    throw error;
  }
  return {
    kind: embedded ? 'pglite' : 'postgres',
    dataSource,
    statements: () => logger.count,
    async check() {
      await dataSource.query('SELECT 1');
    },
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.close();
    },
  };
}
