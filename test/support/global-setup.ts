/**
 * Starts the real components the suites need, once per `jest` run, and hands their addresses to
 * the workers through the environment:
 * - PostgreSQL: DATABASE_URL when set (checked reachable); otherwise suites use PGlite in-process.
 * - Redis: REDIS_URL when set; else a `redis-server` from PATH on a free loopback port.
 * - S3: S3_ENDPOINT when set; else an s3rver process on a free loopback port.
 * A component that cannot be had is listed in TESSERA_TEST_MISSING; suites needing it skip, naming
 * it, unless TESSERA_TEST_REQUIRE_ALL=1 (CI), which makes the run fail here instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', '.artifacts');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function postgresReachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

export default async function globalSetup(): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const missing: string[] = [];
  const pids: number[] = [];
  const started: ChildProcess[] = [];

  if (process.env.DATABASE_URL) {
    const problem = await postgresReachable(process.env.DATABASE_URL);
    if (problem) missing.push(`postgres (DATABASE_URL unreachable: ${problem})`);
    else process.env.TESSERA_TEST_DATABASE_URL = process.env.DATABASE_URL;
  }

  if (process.env.REDIS_URL) {
    process.env.TESSERA_TEST_REDIS_URL = process.env.REDIS_URL;
  } else if (onPath('redis-server')) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    started.push(child);
    if (child.pid !== undefined) pids.push(child.pid);
    if (await waitForPort(port, 10_000)) process.env.TESSERA_TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
    else missing.push('redis (redis-server did not start)');
  } else {
    missing.push('redis (no REDIS_URL and no redis-server on PATH)');
  }

  if (process.env.S3_ENDPOINT) {
    process.env.TESSERA_TEST_S3_ENDPOINT = process.env.S3_ENDPOINT;
  } else {
    const port = await freePort();
    const directory = mkdtempSync(join(tmpdir(), 'tessera-s3-'));
    const child = spawn(process.execPath, [join(here, 's3-server.mjs'), String(port), directory], {
      stdio: 'ignore',
      detached: true,
    });
    started.push(child);
    if (child.pid !== undefined) pids.push(child.pid);
    if (await waitForPort(port, 15_000)) {
      process.env.TESSERA_TEST_S3_ENDPOINT = `http://127.0.0.1:${port}`;
      process.env.TESSERA_TEST_S3_PID = String(child.pid);
      process.env.TESSERA_TEST_S3_DIR = directory;
      process.env.TESSERA_TEST_S3_ACCESS_KEY_ID ??= 'S3RVER';
      process.env.TESSERA_TEST_S3_SECRET_ACCESS_KEY ??= 'S3RVER';
    } else {
      missing.push('s3 (s3rver did not start)');
    }
  }
  process.env.TESSERA_TEST_S3_ACCESS_KEY_ID ??= process.env.S3_ACCESS_KEY_ID ?? 'S3RVER';
  process.env.TESSERA_TEST_S3_SECRET_ACCESS_KEY ??= process.env.S3_SECRET_ACCESS_KEY ?? 'S3RVER';

  for (const child of started) child.unref();
  // One file per run: concurrent runs must not stop each other's servers.
  const runId = `${process.pid}-${Date.now()}`;
  process.env.TESSERA_TEST_RUN_ID = runId;
  writeFileSync(join(artifacts, `services-${runId}.json`), JSON.stringify({ pids }));
  process.env.TESSERA_TEST_MISSING = missing.join(';');

  if (missing.length > 0) {
    const message = `Test services missing: ${missing.join('; ')}`;
    if (process.env.TESSERA_TEST_REQUIRE_ALL === '1')
      throw new Error(`${message} (TESSERA_TEST_REQUIRE_ALL=1)`);
    process.stderr.write(`\n${message}; the suites that need them are skipped.\n`);
  }
}
