import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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
  let unlock = (): void => undefined;
  if (dataDir !== 'memory') {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  // PostgreSQL's default 128 MB of shared buffers would live in the WebAssembly heap, which never
  // shrinks; the registry's working set is far smaller.
  const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=2MB'];
  const db = dataDir === 'memory' ? new PGlite({ startParams }) : new PGlite({ dataDir, startParams });
  try {
    await db.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const [, port] = server.getServerConn().split(':');
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      await server.stop();
      await db.close();
      unlock();
    },
  };
}

/** Thrown when another live process has the PGlite data directory open. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded registry at ${dataDir} is open in process ${pid}. Stop that process first, or talk to it over its GraphQL API.`,
    );
    this.name = 'DataDirInUseError';
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** PGlite has no lock of its own: a pid file keeps a second process from opening the same directory. */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'tessera.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new DataDirInUseError(dataDir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}
