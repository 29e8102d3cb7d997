import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** PGlite (PostgreSQL in WebAssembly) served on a loopback port, so `pg` talks to it like to a server. */
export interface EmbeddedPostgres {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Opens PGlite on `dataDir` (or in memory for `'memory'`) and serves the PostgreSQL wire protocol
 * on 127.0.0.1 at a free port. One process at a time may open a data directory.
 */
export async function startEmbeddedPostgres(dataDir: string | 'memory'): Promise<EmbeddedPostgres> {
  if (dataDir !== 'memory') mkdirSync(dataDir, { recursive: true });
  const db = dataDir === 'memory' ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const [, port] = server.getServerConn().split(':');
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
