/**
 * `GET /`: the media library page, and `GET /library/{file}`: its script and stylesheet.
 *
 * The page is plain TypeScript and CSS under `web/`, on top of the typed SDK under `sdk/`. It is
 * bundled with esbuild once per process when the route is registered (well under a second), so
 * `npm start`, `npm run dev` and the tests all serve the sources as they are, and nothing is
 * fetched from anywhere else: the page works offline. File names carry a content hash, so the
 * script and stylesheet are cached for ever; the page itself is never cached, since it may carry
 * the bootstrap key.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../errors/index.js';
import { problemOf, sendProblem } from '../problem.js';
import { acceptsGzip, isLocalClient } from '../local-client.js';

export interface LibraryRouteOptions {
  /**
   * Tessera's GraphQL endpoint as the browser reaches it, absolute or relative to the page.
   * Default `/graphql` (same origin).
   */
  readonly graphqlUrl?: string;
  /**
   * The bootstrap admin key of embedded mode, or undefined. When it gives a key, the sign-in form
   * comes prefilled with it for browsers on this machine only (direct loopback connections, no
   * proxy headers), as the playground's Headers tab does.
   */
  readonly bootstrapKey?: () => string | undefined;
  /** Directory of the page's sources. Default: the `web/` directory of this checkout. */
  readonly sourceDir?: string;
}

/** The page could not be built from its sources (missing sources or esbuild, or a compile error). */
export class LibraryBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibraryBuildError';
  }
}

/** Where the page's script and stylesheet are served. */
export const LIBRARY_ASSET_PREFIX = '/library/';

interface StaticFile {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly type: string;
}

interface LibraryBundle {
  readonly template: string;
  readonly files: ReadonlyMap<string, StaticFile>;
  readonly script: string;
  readonly style: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Scripts and styles only from this origin; images from anywhere (a CDN may serve them); requests
 * to anywhere (the GraphQL endpoint may be another origin, and direct uploads go to S3).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data: blob:',
  'connect-src *',
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The `web/` directory of the checkout this module runs from (`src/…` or `dist/src/…`). */
function defaultSourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'web', 'main.ts'))) return join(dir, 'web');
    const parent = dirname(dir);
    if (parent === dir)
      throw new LibraryBuildError('The media library sources (web/main.ts) were not found.');
    dir = parent;
  }
}

const escapeAttribute = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Bundles being built by this process (esbuild's service runs while there are any). */
let bundling = 0;

/** Bundles `main.ts` (and the CSS it imports) with esbuild, in memory. */
async function buildBundle(sourceDir: string): Promise<LibraryBundle> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new LibraryBuildError(
      'The media library page is bundled with esbuild at start: install the dev dependencies (npm ci).',
      { cause: error },
    );
  }
  const template = await readFile(join(sourceDir, 'index.html'), 'utf8').catch((error: unknown) => {
    throw new LibraryBuildError(`The media library template ${join(sourceDir, 'index.html')} is missing.`, {
      cause: error,
    });
  });
  let result: Awaited<ReturnType<typeof esbuild.build>>;
  bundling += 1;
  try {
    result = await esbuild.build({
      entryPoints: [join(sourceDir, 'main.ts')],
      absWorkingDir: dirname(sourceDir),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      entryNames: 'library-[hash]',
      outdir: join(sourceDir, 'out'),
      write: false,
      logLevel: 'silent',
    });
  } catch (error) {
    const messages =
      typeof error === 'object' && error !== null && 'errors' in error && Array.isArray(error.errors)
        ? (error.errors as { text?: string; location?: { file?: string; line?: number } | null }[])
            .map((e) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text ?? ''}`)
            .join('\n')
        : String(error);
    throw new LibraryBuildError(`The media library page does not build:\n${messages}`, { cause: error });
  } finally {
    // esbuild's service process (some 18 MB) is not needed once no bundle is being built
    bundling -= 1;
    if (bundling === 0) await esbuild.stop();
  }
  const files = new Map<string, StaticFile>();
  let script = '';
  let style = '';
  for (const output of result.outputFiles ?? []) {
    const name = basename(output.path);
    const extension = name.slice(name.lastIndexOf('.'));
    const body = Buffer.from(output.contents);
    files.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type: TYPES[extension] ?? 'application/octet-stream',
    });
    if (extension === '.js') script = name;
    if (extension === '.css') style = name;
  }
  if (script === '' || style === '')
    throw new LibraryBuildError('The media library bundle lacks its script or stylesheet.');
  return { template, files, script, style };
}

/** One bundle per source directory and process: every Tessera in a process shares it. */
const bundles = new Map<string, Promise<LibraryBundle>>();

function bundleOf(sourceDir: string): Promise<LibraryBundle> {
  let bundle = bundles.get(sourceDir);
  if (!bundle) {
    bundle = buildBundle(sourceDir);
    bundles.set(sourceDir, bundle);
    bundle.catch(() => bundles.delete(sourceDir));
  }
  return bundle;
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string) {
  const gzip = acceptsGzip(request);
  reply
    .header('content-type', file.type)
    .header('cache-control', cacheControl)
    .header('x-content-type-options', 'nosniff')
    .header('vary', 'accept-encoding');
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzip : file.body);
}

/**
 * Registers the media library: the page at `GET /` and its files under `GET /library/`.
 * Builds the page's bundle first (once per process and source directory).
 * @throws LibraryBuildError when the sources or esbuild are missing, or the sources do not compile.
 */
export async function registerLibraryRoute(
  app: FastifyInstance,
  options: LibraryRouteOptions = {},
): Promise<void> {
  const bundle = await bundleOf(options.sourceDir ?? defaultSourceDir());
  const graphqlUrl = options.graphqlUrl ?? '/graphql';

  const page = (bootstrapKey: string | undefined): StaticFile => {
    const html = bundle.template
      .replace('{{graphqlUrl}}', escapeAttribute(graphqlUrl))
      .replace(
        '{{bootstrapKeyMeta}}',
        bootstrapKey === undefined
          ? ''
          : `<meta name="tessera-bootstrap-key" content="${escapeAttribute(bootstrapKey)}" />`,
      )
      .replace('{{script}}', `${LIBRARY_ASSET_PREFIX}${bundle.script}`)
      .replace('{{style}}', `${LIBRARY_ASSET_PREFIX}${bundle.style}`);
    const body = Buffer.from(html, 'utf8');
    return { body, gzip: gzipSync(body), type: 'text/html; charset=utf-8' };
  };
  let plain: StaticFile | undefined;

  app.get('/', async (request, reply) => {
    const key = isLocalClient(request) ? options.bootstrapKey?.() : undefined;
    const file = key === undefined ? (plain ??= page(undefined)) : page(key);
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
    return sendFile(request, reply, file, 'no-store');
  });

  app.get<{ Params: { file: string } }>(`${LIBRARY_ASSET_PREFIX}:file`, async (request, reply) => {
    const file = bundle.files.get(request.params.file);
    if (!file) return sendProblem(reply, problemOf(ErrorCode.NotFound, `No file ${request.params.file}.`));
    return sendFile(request, reply, file, 'public, max-age=31536000, immutable');
  });
}
