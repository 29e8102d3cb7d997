/**
 * Processes the bench starts and watches: servers on loopback (each in its own process, so its
 * memory and CPU are its own), their resident memory from /proc, and commands timed with the CPU
 * they used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A server process the bench started. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** Exit code once it has exited (null: ended by a signal), undefined while it runs. */
  readonly exitCode: number | null | undefined;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout and stderr are appended here (a file, so a chatty server costs the bench nothing). */
  readonly logFile: string;
  /** Polled until it answers with any status. */
  readonly readyUrl: string;
  /** Default 60 s. */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts a server and waits until `readyUrl` answers.
 * @throws Error when it exits first or is not ready in time (its log is named in the message).
 */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve();
    });
    child.once('error', () => {
      exited = -1;
      resolve();
    });
  });
  const server: ServerProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    get exitCode() {
      return exited;
    },
    logFile: options.logFile,
    async stop(graceMs = 10_000) {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(
        `${options.name} exited (code ${String(exited)}) before it was ready: see ${options.logFile}`,
      );
    }
    try {
      await fetch(options.readyUrl, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      await sleep(100);
    }
  }
  await server.stop(1000);
  throw new Error(
    `${options.name} was not ready within ${options.readyTimeoutMs ?? 60_000} ms: see ${options.logFile}`,
  );
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU time (user + system) a process and its reaped children used so far, seconds (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  // fields after the command name: state is 3rd; utime, stime are 14th and 15th of the whole line
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** The process and its children (nginx's workers), when the kernel lists children. */
export function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

/** Resident set size of a process now, bytes (Linux /proc). */
export const rssOf = (pid: number): number => statusField(pid, 'VmRSS');

/** Highest resident set size of a process since it started or since `resetPeakRss`, bytes. */
export const peakRssOf = (pid: number): number => statusField(pid, 'VmHWM');

/** Restarts the kernel's peak-RSS mark of a process (Linux ≥ 4.0); false when not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples a process's RSS every `everyMs` until `stop` is called; the sampler's own cost is one
 * small file read per sample.
 */
export function sampleRss(pid: number, everyMs = 10): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // the process is gone: keep what was seen
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** What a timed command printed and the CPU it (and its children) used. */
export interface TimedRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  /** User + system CPU time of the command, seconds (from the shell's `times`, i.e. wait4 rusage). */
  readonly cpuSeconds: number;
  /** Wall-clock time, seconds. */
  readonly wallSeconds: number;
}

const TIMES_MARK = '\n--- cpu times ---\n';

/**
 * Runs a command to its end under `sh`, which then prints the CPU time its children used.
 * @throws Error when the shell's `times` output is missing.
 */
export async function runTimed(
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<TimedRun> {
  const started = performance.now();
  const child = spawn(
    'sh',
    [
      '-c',
      `"$@"; status=$?; printf '${TIMES_MARK.replace(/\n/g, '\\n')}'; times; exit $status`,
      'sh',
      command,
      ...args,
    ],
    {
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const at = stdout.lastIndexOf(TIMES_MARK);
  if (at === -1) throw new Error(`${command}: no CPU times (exit ${String(code)}): ${stderr.slice(0, 500)}`);
  // `times` prints the shell's user and system time, then its children's
  const lines = stdout
    .slice(at + TIMES_MARK.length)
    .trim()
    .split('\n');
  const seconds = (text: string) =>
    [...text.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { stdout: stdout.slice(0, at), stderr, code, cpuSeconds: seconds(lines[1] ?? ''), wallSeconds };
}

/** True when `command` is on PATH. */
export async function onPath(command: string): Promise<boolean> {
  const child = spawn('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', command], { stdio: 'ignore' });
  return new Promise((resolve) => {
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}
