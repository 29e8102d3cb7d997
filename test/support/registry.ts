/**
 * Fresh registries for tests: a new database on the real PostgreSQL server (dropped afterwards),
 * or a new in-memory PGlite. Suites that must pass on both iterate `registryKinds`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openRegistry, type Registry } from '../../src/db/registry.js';
import { testServices } from './services.js';

export type RegistryKind = 'postgres' | 'pglite';

/** PGlite always; PostgreSQL when the run has one. */
export const registryKinds: RegistryKind[] = testServices.postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

/** The kind integration suites use: the real server when there is one. */
export const primaryRegistryKind: RegistryKind = testServices.postgresUrl ? 'postgres' : 'pglite';

export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test PostgreSQL server. */
export async function createFreshDatabase(): Promise<FreshDatabase> {
  const adminUrl = testServices.postgresUrl;
  if (!adminUrl) throw new Error('no PostgreSQL server in this run');
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestRegistry {
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A migrated, empty registry of the given kind. */
export async function openTestRegistry(
  kind: RegistryKind,
  options: { migrate?: boolean } = {},
): Promise<TestRegistry> {
  if (kind === 'pglite') {
    const registry = await openRegistry({ pgliteDir: 'memory', migrate: options.migrate });
    return { registry, close: () => registry.close() };
  }
  const db = await createFreshDatabase();
  const registry = await openRegistry({ databaseUrl: db.url, migrate: options.migrate });
  return {
    registry,
    async close() {
      await registry.close();
      await db.drop();
    },
  };
}
