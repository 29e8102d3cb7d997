/**
 * `npm run bench`: Tessera against the references a user would otherwise pick, measured in the
 * same run on this machine, on loopback. Prints the tables and the targets' verdicts, writes
 * `bench-results.json` at the repository root. Bounded: stops past BENCH_LIMIT_SECONDS (270 s;
 * the build before it takes seconds), printing what it has measured.
 *
 * Environment: DATABASE_URL (a PostgreSQL server: the bench creates and drops a database of its
 * own there) and REDIS_URL (keys under a prefix of the bench's, deleted afterwards) put Tessera on
 * real components; without them it runs embedded. BENCH_LOAD=autocannon uses autocannon instead
 * of wrk; BENCH_KEEP=1 keeps the work directory (logs); BENCH_ONLY=cold,warm,graphql,
 * single-flight,memory (any of them) measures only those, for work on one of them: the targets of
 * the others are then unmeasured. References: `sh test/bench/setup.sh` installs nginx and wrk.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTessera, type Tessera } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { repoRoot } from '../support/fixtures.js';
import {
  transformUrl,
  upload,
  gql,
  waitForEagerRenders,
  type TesseraEndpoint,
  type UploadedAsset,
} from './client.js';
import {
  bootstrapOf,
  prepareComponents,
  startTesseraProcess,
  tesseraEnv,
  type Components,
} from './environment.js';
import { BENCH_HEIGHT, BENCH_WIDTH, makeBenchPhoto, makeLargePhoto, makeLibrary } from './images.js';
import { closedLoop, type LoadTool } from './load.js';
import { coldFormats, measureColdRender, type ColdFormat } from './phases/cold-render.js';
import { measureGraphQL, measureImageStatements } from './phases/graphql.js';
import { measurePeakRss, measureRssGrowth } from './phases/memory.js';
import { measureSingleFlight } from './phases/single-flight.js';
import { measureWarmHit } from './phases/warm-hit.js';
import { freePort, onPath, type ServerProcess } from './processes.js';
import { nginxVersion, startIpx, startBytesServer, startNginx, startSharpServer } from './references.js';
import { evaluateTargets, renderReport, withVerdicts, type BenchResults } from './report.js';

const LIMIT_SECONDS = Number(process.env.BENCH_LIMIT_SECONDS ?? 270);
const PHASES = ['cold', 'warm', 'graphql', 'single-flight', 'memory'] as const;
const only = (process.env.BENCH_ONLY ?? '').split(',').filter((phase) => phase !== '');
for (const phase of only)
  if (!(PHASES as readonly string[]).includes(phase))
    throw new Error(`BENCH_ONLY: unknown phase "${phase}" (${PHASES.join(', ')})`);
/** Whether this run measures `phase`. */
const measures = (phase: (typeof PHASES)[number]): boolean => only.length === 0 || only.includes(phase);
/** How long Tessera gets to stop on SIGTERM before it is killed (it should take well under a second). */
const SHUTDOWN_GRACE_MS = 3000;
const LIBRARY_SIZE = 100;
const RUNS = 3;
/** Cold renders take seconds per run, and their ratios move most with the machine's other load: more runs. */
const COLD_RUNS = 5;
/** What the phases after the cold renders take at most (warm hits, single flight, memory, stopping), seconds. */
const AFTER_COLD_SECONDS = 110;

const started = Date.now();
const running = new Set<ServerProcess>();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

function track(server: ServerProcess): ServerProcess {
  running.add(server);
  return server;
}

async function stop(server: ServerProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!server) return;
  running.delete(server);
  await server.stop(graceMs);
}

function packageVersion(path: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

function ipxSharpVersions(): { sharp: string; libvips: string } {
  const sharpPackage = packageVersion('node_modules/ipx/node_modules/sharp/package.json');
  if (sharpPackage === 'absent')
    return { sharp: packageVersion('node_modules/sharp/package.json'), libvips: sharp.versions.vips };
  try {
    const versions = JSON.parse(
      readFileSync(
        join(repoRoot, 'node_modules/ipx/node_modules/@img/sharp-libvips-linux-x64/versions.json'),
        'utf8',
      ),
    ) as { vips?: string };
    return { sharp: sharpPackage, libvips: versions.vips ?? 'unknown' };
  } catch {
    return { sharp: sharpPackage, libvips: 'unknown' };
  }
}

async function machine(tool: LoadTool): Promise<Record<string, unknown>> {
  const ipxSharp = ipxSharpVersions();
  const generator =
    tool === 'wrk'
      ? `wrk ${execFileSync('sh', ['-c', 'wrk -v 2>&1 | head -1'], { encoding: 'utf8' }).split(' ')[1] ?? ''}`
      : `autocannon ${packageVersion('node_modules/autocannon/package.json')}`;
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    os: `${type()} ${release()}`,
    node: process.versions.node,
    sharp: packageVersion('node_modules/sharp/package.json'),
    libvips: sharp.versions.vips,
    ipx: packageVersion('node_modules/ipx/package.json'),
    ipxSharp: ipxSharp.sharp,
    ipxLibvips: ipxSharp.libvips,
    nginx: await nginxVersion(),
    loadGenerator: generator,
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The canonical URL of `transform` with `{w}` where its width goes. */
async function urlTemplate(
  endpoint: TesseraEndpoint,
  assetId: string,
  transform: Record<string, unknown>,
  width: number,
): Promise<string> {
  const url = await transformUrl(endpoint, assetId, { ...transform, width });
  if (!url.includes(`w_${width}`)) throw new Error(`no w_${width} in ${url}`);
  return url.replace(`w_${width}`, 'w_{w}');
}

type Results = { -readonly [K in keyof BenchResults]: BenchResults[K] };

/** What is measured so far: written and printed at the end, or when the time limit stops the bench. */
let results: Omit<Results, 'targets' | 'seconds'> | undefined;
let finished = false;
let timedOut = false;
/** Undoes what the bench set up (database, Redis keys, work directory); set once there is something. */
let cleanup: (() => Promise<void>) | undefined;
let tidying: Promise<void> | undefined;
/** Runs the cleanup once, whoever asks first (the end of the bench, a failure or the time limit). */
const tidy = (): Promise<void> => (tidying ??= cleanup?.().catch(() => undefined) ?? Promise.resolve());

function finish(): void {
  if (finished || !results) return;
  finished = true;
  const seconds = (Date.now() - started) / 1000;
  const done = { ...results, seconds } as Omit<BenchResults, 'targets'>;
  const report: BenchResults = { ...done, targets: withVerdicts(evaluateTargets(done)) };
  writeFileSync(join(repoRoot, 'bench-results.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${renderReport(report)}\n`);
}

async function main(): Promise<void> {
  const tool: LoadTool =
    process.env.BENCH_LOAD === 'autocannon' || !(await onPath('wrk')) ? 'autocannon' : 'wrk';
  const work = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const dataDir = join(work, 'data');
  const ipxDir = join(work, 'ipx');
  mkdirSync(ipxDir);
  mkdirSync(dataDir);
  let components: Components | undefined;
  let inProcess: Tessera | undefined;
  let tessera: ServerProcess | undefined;
  const r: Omit<Results, 'targets' | 'seconds'> = {
    startedAt: new Date(started).toISOString(),
    machine: await machine(tool),
    tessera: {
      registry: '',
      cache: '',
      storage: '',
      maxConcurrentRenders: 0,
      avifEffort: 0,
      commit: gitCommit(),
    },
  };
  results = r;
  cleanup = async () => {
    await components?.dispose();
    if (process.env.BENCH_KEEP === '1') progress(`work directory kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  };
  try {
    components = await prepareComponents();
    const config = loadConfig({ ...components.env, DATA_DIR: dataDir });
    r.tessera = {
      registry: components.registry,
      cache: components.cache,
      storage: components.storage,
      maxConcurrentRenders: config.maxConcurrentRenders,
      avifEffort: config.avifEffort,
      commit: gitCommit(),
    };
    progress(
      `Tessera on ${components.registry}, ${components.cache} cache, ${components.storage} storage; load generator ${tool}; work dir ${work}`,
    );

    const bench = await makeBenchPhoto(ipxDir);
    const large = await makeLargePhoto(work);
    const library = await makeLibrary(LIBRARY_SIZE);
    progress(
      `images made: bench ${(bench.bytes.length / 2 ** 20).toFixed(2)} MB, 24 MP ${(large.bytes.length / 2 ** 20).toFixed(2)} MB, ${library.length} small`,
    );

    // A Tessera in this process first: it creates the organization, takes the uploads, and answers
    // the GraphQL measurements, whose SQL statements are counted from its registry.
    const inPort = await freePort();
    inProcess = await createTessera(
      loadConfig({ ...tesseraEnv(components, dataDir, inPort), LOG_LEVEL: 'warn' }),
    );
    await inProcess.bootstrapIfEmpty();
    await inProcess.http.listen({ host: '127.0.0.1', port: inPort });
    const boot = bootstrapOf(dataDir);
    const local: TesseraEndpoint = {
      baseUrl: `http://127.0.0.1:${inPort}`,
      apiKey: boot.apiKey,
      spaceId: boot.spaceId,
    };
    const benchAsset = await upload(local, { name: 'bench.jpg', bytes: bench.bytes });
    const largeAsset = await upload(local, { name: 'large.jpg', bytes: large.bytes });
    const libraryAssets: UploadedAsset[] = new Array(library.length);
    await closedLoop(library.length, 2, async (i) => {
      libraryAssets[i] = await upload(local, library[i]!);
    });
    progress(`uploaded ${2 + library.length} assets`);
    await waitForEagerRenders(local);
    progress('eager preset renders done');
    if (measures('graphql')) {
      r.graphql = await measureGraphQL(local, inProcess.registry, [10, 50, 100], RUNS, 10, progress);
      const statementsTemplate = await urlTemplate(local, libraryAssets[0]!.id, { format: 'JPG' }, 301);
      const { variants } = inProcess.services;
      r.imageStatements = await measureImageStatements(
        inProcess.registry,
        () => variants.idle(),
        [302, 303, 304, 305, 306].map((w) => statementsTemplate.replace('{w}', String(w))),
      );
      progress(
        `SQL statements per image request: render ${r.imageStatements.render.join(',')}, hit ${r.imageStatements.hit.join(',')}`,
      );
    }
    await inProcess.close();
    inProcess = undefined;

    // Then Tessera as users run it, a process of its own, on the same registry and storage.
    const child = await startTesseraProcess(components, dataDir, await freePort());
    tessera = track(child.server);
    const endpoint = child.endpoint;

    // Cold render
    const formats = coldFormats(config.avifEffort, config.maxConcurrentRenders);
    const templates = new Map<ColdFormat['name'], string>();
    for (const format of formats)
      templates.set(format.name, await urlTemplate(endpoint, benchAsset.id, format.tessera, 719));
    const ipx = measures('cold') ? await startIpx(ipxDir, work) : undefined;
    if (ipx) track(ipx.server);
    const sharpHttp = measures('cold')
      ? await startSharpServer(
          bench.path,
          { width: BENCH_WIDTH, height: BENCH_HEIGHT },
          config.avifEffort,
          work,
        )
      : undefined;
    if (sharpHttp) track(sharpHttp.server);
    if (ipx && sharpHttp) {
      const measured = await measureColdRender(
        formats,
        {
          tesseraUrl: (format, width) => templates.get(format.name)!.replace('{w}', String(width)),
          ipxUrl: (format, width) => `${ipx.baseUrl}/w_${width},${format.ipx}/bench.jpg`,
          sharpHttpUrl: (format, width) => `${sharpHttp.baseUrl}/${format.name}/${width}`,
          source: bench.bytes,
          concurrency: config.maxConcurrentRenders,
          runs: COLD_RUNS,
          deadline: started + (LIMIT_SECONDS - AFTER_COLD_SECONDS) * 1000,
        },
        progress,
      );
      r.cold = {
        concurrency: config.maxConcurrentRenders,
        runs: measured[0]?.vsSharp.length ?? 0,
        formats: measured,
      };
    }
    await stop(ipx?.server);
    await stop(sharpHttp?.server);

    if (measures('warm')) {
      // Warm hit (rendered by the cold render, or now)
      const hitUrl = templates.get('jpeg')!.replace('{w}', '720');
      await (await fetch(hitUrl)).arrayBuffer();
      const hit = await fetch(hitUrl);
      const hitBytes = Buffer.from(await hit.arrayBuffer());
      if (hit.status !== 200 || hit.headers.get('x-cache') === 'render')
        throw new Error(
          `warm-hit URL answered ${hit.status} from ${hit.headers.get('x-cache')}, not a cache`,
        );
      const variantFile = join(work, 'variant.jpg');
      writeFileSync(variantFile, hitBytes);
      const memory = await startBytesServer('node-memory', variantFile, 'image/jpeg', work);
      track(memory.server);
      const fastify = await startBytesServer('fastify', variantFile, 'image/jpeg', work);
      track(fastify.server);
      const nginx = r.machine.nginx ? await startNginx(variantFile, 'variant.jpg', work) : undefined;
      if (nginx) track(nginx.server);
      // Tessera as one process per core, as nginx runs (several processes need PostgreSQL and Redis)
      const workers =
        components.registry === 'postgres' && components.cache === 'redis'
          ? await startTesseraProcess(components, dataDir, await freePort(), {
              env: { WORKERS: 'auto' },
              name: 'tessera-workers',
            })
          : undefined;
      if (workers) track(workers.server);
      const warmSeconds = 2;
      const connections = 32;
      r.warm = {
        ...(await measureWarmHit(
          {
            servers: {
              tessera: { url: hitUrl, pid: tessera.pid },
              ...(workers
                ? {
                    workers: {
                      url: hitUrl.replace(endpoint.baseUrl, workers.endpoint.baseUrl),
                      pid: workers.server.pid,
                    },
                  }
                : {}),
              node: { url: memory.url, pid: memory.server.pid },
              fastify: { url: fastify.url, pid: fastify.server.pid },
              ...(nginx ? { nginx: { url: nginx.url, pid: nginx.server.pid } } : {}),
            },
            tool,
            connections,
            seconds: warmSeconds,
            runs: RUNS,
          },
          progress,
        )),
        bytes: hitBytes.length,
        connections,
        seconds: warmSeconds,
        tool,
      };
      await stop(workers?.server);
      await stop(memory.server);
      await stop(fastify.server);
      await stop(nginx?.server);
    }

    if (measures('single-flight')) {
      // Single-flight
      const webpTemplate = templates.get('webp')!;
      r.singleFlight = await measureSingleFlight(
        endpoint,
        benchAsset.id,
        (width) => webpTemplate.replace('{w}', String(width)),
        RUNS,
        progress,
      );
    }

    if (measures('memory')) {
      // Memory
      const largeTemplate = await urlTemplate(endpoint, largeAsset.id, { format: 'JPG', quality: 80 }, 1999);
      r.peakRss = await measurePeakRss(
        tessera.pid,
        (width) => largeTemplate.replace('{w}', String(width)),
        RUNS,
        progress,
      );
      const page = await gql<{
        assets: {
          edges: { node: { id: string; url: string; variants: { edges: { node: { url: string } }[] } } }[];
        };
      }>(
        endpoint,
        'query($space: ID!) { assets(spaceId: $space, first: 100) { edges { node { id url variants(first: 3) { edges { node { url } } } } } } }',
        { space: endpoint.spaceId },
      );
      const small = new Set(libraryAssets.map((a) => a.id));
      const smallNodes = page.assets.edges.map((e) => e.node).filter((n) => small.has(n.id));
      const renderTemplates: string[] = [];
      for (const node of smallNodes.slice(0, 20))
        renderTemplates.push(await urlTemplate(endpoint, node.id, { format: 'JPG' }, 311));
      const hits = smallNodes.flatMap((n) => n.variants.edges.map((e) => e.node.url));
      r.growth = await measureRssGrowth(
        tessera.pid,
        {
          endpoint,
          hits,
          originals: smallNodes.map((n) => n.url),
          renderTemplates,
          missing: hits[0]!.replace(/\/v1\//, '/v999/'),
        },
        progress,
      );
    }

    const stopping = performance.now();
    const stopped = tessera;
    await stop(stopped, SHUTDOWN_GRACE_MS);
    tessera = undefined;
    r.shutdown = {
      seconds: (performance.now() - stopping) / 1000,
      exitCode: stopped.exitCode ?? null,
    };
    progress(
      `Tessera stopped ${r.shutdown.seconds * 1000 > SHUTDOWN_GRACE_MS ? `only when killed, ${SHUTDOWN_GRACE_MS / 1000} s after SIGTERM` : `on SIGTERM in ${r.shutdown.seconds.toFixed(1)} s`}, exit code ${String(r.shutdown.exitCode)}`,
    );
  } finally {
    await inProcess?.close().catch(() => undefined);
    for (const server of [...running]) await stop(server, SHUTDOWN_GRACE_MS).catch(() => undefined);
    await tidy();
    finish();
  }
}

const watchdog = setTimeout(() => {
  progress(`the bench exceeded ${LIMIT_SECONDS} s: stopping with what it has measured`);
  timedOut = true;
  void (async () => {
    await Promise.all([...running].map((server) => server.stop(1000).catch(() => undefined)));
    await tidy();
    finish();
    process.exit(1);
  })();
}, LIMIT_SECONDS * 1000);
watchdog.unref();

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    if (!timedOut)
      progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await tidy();
    finish();
    process.exit(1);
  },
);
