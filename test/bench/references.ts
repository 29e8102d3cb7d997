/**
 * The reference servers, each in a process of its own on loopback: ipx and Sharp behind Node's
 * http (cold renders), a minimal Node server answering from memory and nginx answering from disk
 * (warm hits).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/fixtures.js';
import { hostEnv } from './environment.js';
import { freePort, onPath, startServer, type ServerProcess } from './processes.js';

const SWC = ['--import', '@swc-node/register/esm-register'];

/**
 * One of the bench's Node reference servers (`test/bench/servers/{script}`, its port after
 * `before` in its arguments), started and answering on `/`: the server and its origin.
 */
async function startNodeReference(
  name: string,
  script: string,
  args: { before: readonly string[]; after?: readonly string[] },
  logDir: string,
): Promise<{ server: ServerProcess; baseUrl: string }> {
  const port = await freePort();
  const server = await startServer({
    name,
    command: process.execPath,
    args: [
      ...SWC,
      join(repoRoot, 'test/bench/servers', script),
      ...args.before,
      String(port),
      ...(args.after ?? []),
    ],
    cwd: repoRoot,
    env: { ...hostEnv(), NODE_ENV: 'production' },
    logFile: join(logDir, `${name}.log`),
    readyUrl: `http://127.0.0.1:${port}/`,
  });
  return { server, baseUrl: `http://127.0.0.1:${port}` };
}

/** ipx serving `dir` (its node server): URLs `/{modifiers}/{file}`. */
export function startIpx(dir: string, logDir: string): Promise<{ server: ServerProcess; baseUrl: string }> {
  return startNodeReference('ipx', 'ipx-server.ts', { before: [dir] }, logDir);
}

/** Sharp behind Node's own http, `file` in memory: URLs `/{jpeg|webp|avif}/{width}`. */
export function startSharpServer(
  file: string,
  size: { width: number; height: number },
  avifEffort: number,
  logDir: string,
): Promise<{ server: ServerProcess; baseUrl: string }> {
  return startNodeReference(
    'sharp-http',
    'sharp-server.ts',
    { before: [file], after: [String(size.width), String(size.height), String(avifEffort)] },
    logDir,
  );
}

/** The servers answering one file's bytes from memory: bare Node http, and a bare Fastify route. */
const BYTES_SERVERS = {
  'node-memory': 'memory-server.ts',
  fastify: 'fastify-server.ts',
} as const;

/** A minimal server answering `file`'s bytes from memory, at `url`. */
export async function startBytesServer(
  kind: keyof typeof BYTES_SERVERS,
  file: string,
  contentType: string,
  logDir: string,
): Promise<{ server: ServerProcess; url: string }> {
  const { server, baseUrl } = await startNodeReference(
    kind,
    BYTES_SERVERS[kind],
    { before: [file], after: [contentType] },
    logDir,
  );
  return { server, url: `${baseUrl}/image` };
}

/** nginx's version line, or undefined when it is not installed. */
export async function nginxVersion(): Promise<string | undefined> {
  if (!(await onPath('nginx'))) return undefined;
  const result = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return (result.stderr || result.stdout).trim().replace(/^nginx version:\s*(nginx\/)?/, '');
}

/**
 * nginx with Debian's defaults that matter here (worker_processes auto, sendfile, an access log)
 * and no limit on requests per kept-alive connection (as Node's server), serving `file` as
 * `/{name}` from a root of its own under `dir`.
 */
export async function startNginx(
  file: string,
  name: string,
  dir: string,
): Promise<{ server: ServerProcess; url: string }> {
  const port = await freePort();
  const root = join(dir, 'nginx');
  const www = join(root, 'www');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  mkdirSync(www, { recursive: true });
  copyFileSync(file, join(www, name));
  // workers run as nobody: the root must be readable by them
  for (const path of [dir, root, www, join(www, name)]) chmodSync(path, path.endsWith(name) ? 0o644 : 0o755);
  const conf = join(root, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes auto;
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections 1024; }
http {
  types { image/jpeg jpg; image/webp webp; image/avif avif; }
  access_log ${root}/access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${root}/tmp/body;
  proxy_temp_path ${root}/tmp/proxy;
  fastcgi_temp_path ${root}/tmp/fastcgi;
  uwsgi_temp_path ${root}/tmp/uwsgi;
  scgi_temp_path ${root}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location / { add_header cache-control "public, max-age=31536000, immutable"; }
  }
}
`,
  );
  const server = await startServer({
    name: 'nginx',
    command: 'nginx',
    args: ['-c', conf, '-p', root, '-e', join(root, 'error.log')],
    env: hostEnv(),
    logFile: join(root, 'stdout.log'),
    readyUrl: `http://127.0.0.1:${port}/${name}`,
  });
  return { server, url: `http://127.0.0.1:${port}/${name}` };
}
