/**
 * Real processes the reliability suites start, kill and restart themselves: a Tessera API node and
 * a job worker (each its own Node process, run from the TypeScript sources), a `redis-server`, a
 * throw-away PostgreSQL cluster and an S3 API server, each on a free loopback port of its own, so
 * that killing one never touches the services other suites share.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { repoRoot } from '../support/fixtures.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every child started here, so that a failing suite still leaves none behind. */
const children = new Set<ChildProcess>();
/** Synchronous clean-ups of what outlives a child (a PostgreSQL cluster runs as a daemon). */
const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups) cleanup();
});

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
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

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** Polls `ready` until it resolves true. @throws Error naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/** A child process with its output in a log file. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** True while the process runs. */
  alive(): boolean;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves once it has ended. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last `bytes` of its log. */
  log(bytes?: number): string;
}

/** Starts `command` with its output appended to `logFile`. */
export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): Child {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  children.add(child);
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      children.delete(child);
      resolve(code ?? signal ?? -1);
    });
    child.once('error', () => {
      running = false;
      children.delete(child);
      resolve(-1);
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exited,
    alive: () => running,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (!running) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    log(bytes = 4000) {
      try {
        const text = readFileSync(options.logFile, 'utf8');
        return text.slice(-bytes);
      } catch {
        return '';
      }
    },
  };
}

/** A `redis-server` of its own, on a fixed port so that a restart comes back at the same URL. */
export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  readonly child: Child;
  /** SIGKILL: the server vanishes as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(workDir: string): Promise<RedisProcess> {
  const port = await freePort();
  const launch = async (): Promise<Child> => {
    const child = startChild(
      'redis-server',
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { logFile: join(workDir, 'redis.log') },
    );
    await waitFor('redis-server', () => portOpen(port), 10_000);
    return child;
  };
  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get child() {
      return child;
    },
    kill: () => child.stop('SIGKILL'),
    async restart() {
      await child.stop('SIGKILL');
      child = await launch();
    },
    close: () => child.stop('SIGKILL'),
  };
}

/** The newest PostgreSQL server binaries on this machine (Debian layout), if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : undefined;
}

/** A throw-away PostgreSQL cluster of its own (initdb in a temporary directory, trust auth). */
export interface PostgresCluster {
  /** Superuser URL of its `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m fast`: connections are ended by the server (admin shutdown). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * `initdb` and `pg_ctl start` from `postgresBinDir()`, run as the `postgres` user when this process
 * is root (PostgreSQL refuses to run as root).
 * @throws Error when there are no binaries or the cluster does not start.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const data = join(dir, 'data');
  const owner = root ? Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()) : undefined;
  const ownerGroup = root ? Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()) : undefined;
  if (owner !== undefined && ownerGroup !== undefined) chownSync(dir, owner, ownerGroup);
  const run = (command: string, args: string[], timeoutMs = 60_000) => {
    const [cmd, argv] = root
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    const result = spawnSync(cmd as string, argv as string[], {
      encoding: 'utf8',
      timeout: timeoutMs,
      cwd: dir,
    });
    if (result.status !== 0)
      throw new Error(
        `${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`,
      );
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
  const start = async () => {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
    await waitFor('PostgreSQL', () => portOpen(port), 30_000);
  };
  const forceStop = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(forceStop);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    },
    start,
    async destroy() {
      if (!cleanups.delete(forceStop)) return;
      forceStop();
    },
  };
}

/** An S3 API server (s3rver, `test/support/s3-server.mjs`) of its own. */
export interface S3Process {
  readonly endpoint: string;
  readonly port: number;
  /** Stops it (SIGKILL: it goes away mid-request, as a crashed or unreachable store). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory: what was stored is still there. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(workDir: string): Promise<S3Process> {
  const port = await freePort();
  const directory = mkdtempSync(join(workDir, 's3-'));
  const launch = async (): Promise<Child> => {
    const child = startChild(
      's3rver',
      process.execPath,
      [join(repoRoot, 'test', 'support', 's3-server.mjs'), String(port), directory],
      { logFile: join(workDir, 's3.log') },
    );
    await waitFor('s3rver', () => portOpen(port), 15_000);
    return child;
  };
  let child = await launch();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    kill: () => child.stop('SIGKILL'),
    async restart() {
      await child.stop('SIGKILL');
      child = await launch();
    },
    close: () => child.stop('SIGKILL'),
  };
}

/** Node running a TypeScript entry point of this repository (SWC keeps decorator metadata). */
const TS_NODE = ['--import', '@swc-node/register/esm-register'];

/** A Tessera API node in a process of its own. */
export interface TesseraProcess {
  readonly baseUrl: string;
  readonly port: number;
  readonly child: Child;
  readonly boot: BootstrapResult;
  readonly env: Readonly<Record<string, string>>;
  /** A GraphQL request with the bootstrap admin key (or `key`). */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<{
    status: number;
    data?: T | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  }>;
  close(): Promise<void>;
}

/**
 * Starts `src/main.ts` with `env` (on top of a quiet test environment, its own data directory and
 * port, BOOTSTRAP=always) and waits until `/healthz` answers and the bootstrap file is written.
 */
export async function startTesseraProcess(
  workDir: string,
  env: Record<string, string>,
  name = 'tessera',
): Promise<TesseraProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(workDir, `${name}-data-`));
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    BOOTSTRAP: 'always',
    ...env,
  };
  const child = startChild(name, process.execPath, [...TS_NODE, 'src/main.ts'], {
    env: fullEnv,
    logFile: join(workDir, `${name}.log`),
  });
  const bootFile = join(dataDir, 'bootstrap.json');
  try {
    await waitFor(
      `${name} (${child.logFile})`,
      async () => {
        if (!child.alive()) throw new Error(`${name} exited: ${child.log()}`);
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        return res.status === 200 && existsSync(bootFile);
      },
      90_000,
    );
  } catch (error) {
    await child.stop('SIGKILL');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${child.log()}`);
  }
  const boot = JSON.parse(readFileSync(bootFile, 'utf8')) as BootstrapResult;
  return {
    baseUrl,
    port,
    child,
    boot,
    env: fullEnv,
    async gql<T>(query: string, variables: Record<string, unknown> = {}, key: string | null = boot.apiKey) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
      }
      return { status: response.status, ...body };
    },
    async close() {
      await child.stop('SIGTERM', 15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `src/worker.ts` (BullMQ job worker) in a process of its own, with the API node's environment;
 * resolves once it says it is running (its components are connected), so that faults a test
 * causes next hit a running worker, not one still starting.
 * @throws Error with its log when it exits first or is not running within a minute.
 */
export async function startWorkerProcess(
  workDir: string,
  env: Readonly<Record<string, string>>,
  name = 'worker',
): Promise<Child> {
  const child = startChild(name, process.execPath, [...TS_NODE, 'src/worker.ts'], {
    env: { ...env, BOOTSTRAP: 'never' },
    logFile: join(workDir, `${name}.log`),
  });
  try {
    await waitFor(
      name,
      async () => !child.alive() || child.log(100_000).includes('Tessera worker running'),
      60_000,
    );
    if (!child.alive()) throw new Error(`${name} exited before it was running`);
  } catch (error) {
    await child.stop('SIGKILL');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${child.log()}`);
  }
  return child;
}

/** A fresh temporary directory for one suite's processes and logs. */
export const workDirectory = (name: string): string => mkdtempSync(join(tmpdir(), `tessera-${name}-`));

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
