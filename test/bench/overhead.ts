/**
 * `npm run bench:overhead`: the CPU Tessera spends per new variant beyond the render, in
 * milliseconds per image. With the bench's 2725×2225 photograph, a render costs ~90 ms of CPU and
 * run-to-run noise on a shared machine is several times Tessera's own work; here the source is
 * that photograph at 400 px wide, so a render costs a few milliseconds and the rest shows.
 *
 * Tessera (a child process, on DATABASE_URL and REDIS_URL when set, as `npm run bench`) and Sharp
 * behind a bare Node http server are asked the same distinct variants (widths 100–299 at q80…q76,
 * JPEG), two at a time, in alternating rounds. Per round: CPU time of each server process, of
 * every PostgreSQL and Redis server process on the machine (theirs is Tessera's work: the Sharp
 * server uses neither), and of this process (the client). Prints the median per image, with
 * min–max, and Tessera's excess over the Sharp server. OVERHEAD_ROUNDS (default 5) and
 * OVERHEAD_IMAGES (per round, default 200) size it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { header, httpGet, transformUrl, upload } from './client.js';
import { prepareComponents, startTesseraProcess } from './environment.js';
import { BENCH_HEIGHT, BENCH_WIDTH, makeBenchPhoto } from './images.js';
import { closedLoop } from './load.js';
import { cpuSecondsOf, freePort, type ServerProcess } from './processes.js';
import { startSharpServer } from './references.js';
import { formatSummary, summarize } from './stats.js';

const ROUNDS = Number(process.env.OVERHEAD_ROUNDS ?? 5);
const IMAGES = Number(process.env.OVERHEAD_IMAGES ?? 200);
const CONCURRENCY = 2;
const SOURCE_WIDTH = 400;
const SOURCE_HEIGHT = Math.round((SOURCE_WIDTH * BENCH_HEIGHT) / BENCH_WIDTH);

/** Process ids of a program by name (`pgrep -x`); none when it is not running. */
function pidsOf(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of processes, counting those that ended meanwhile as nothing. */
function cpuOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuSecondsOf(pid);
    } catch {
      // gone
    }
  }
  return total;
}

type Column = 'server' | 'postgres' | 'redis' | 'client';

async function round(
  server: ServerProcess,
  url: (i: number) => string,
  first: number,
  expectRender: boolean,
): Promise<Record<Column, number>> {
  const postgres = pidsOf('postgres');
  const redis = pidsOf('redis-server');
  const before = {
    server: cpuOf([server.pid]),
    postgres: cpuOf(postgres),
    redis: cpuOf(redis),
    client: process.cpuUsage(),
  };
  await closedLoop(IMAGES, CONCURRENCY, async (i) => {
    const answer = await httpGet(url(first + i));
    if (answer.status !== 200) throw new Error(`${url(first + i)} answered ${answer.status}`);
    const cache = header(answer, 'x-cache');
    if (expectRender && cache !== 'render')
      throw new Error(`${url(first + i)} was answered from ${cache}, not rendered`);
  });
  const client = process.cpuUsage(before.client);
  const perImage = (seconds: number) => (seconds * 1000) / IMAGES;
  return {
    server: perImage(cpuOf([server.pid]) - before.server),
    postgres: perImage(cpuOf(postgres) - before.postgres),
    redis: perImage(cpuOf(redis) - before.redis),
    client: perImage((client.user + client.system) / 1e6),
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tessera-overhead-'));
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const components = await prepareComponents();
  const servers: ServerProcess[] = [];
  try {
    const photo = await makeBenchPhoto(work);
    const source = await sharp(photo.bytes)
      .resize(SOURCE_WIDTH, SOURCE_HEIGHT)
      .jpeg({ quality: 90 })
      .toBuffer();
    const sourcePath = join(work, 'source.jpg');
    writeFileSync(sourcePath, source);
    const tessera = await startTesseraProcess(components, dataDir, await freePort());
    servers.push(tessera.server);
    const sharpHttp = await startSharpServer(
      sourcePath,
      { width: SOURCE_WIDTH, height: SOURCE_HEIGHT },
      4,
      work,
    );
    servers.push(sharpHttp.server);
    const asset = await upload(tessera.endpoint, { name: 'source.jpg', bytes: source });
    const template = (
      await transformUrl(tessera.endpoint, asset.id, { width: 99, format: 'JPG', quality: 80 })
    )
      .replace('w_99', 'w_{w}')
      .replace('q_80', 'q_{q}');
    if (!template.includes('{w}') || !template.includes('{q}')) throw new Error(`unexpected URL ${template}`);
    // every Tessera request a new variant: 200 widths, then the next quality
    const tesseraUrl = (i: number) =>
      template.replace('{w}', String(100 + (i % 200))).replace('{q}', String(80 - Math.floor(i / 200)));
    const sharpUrl = (i: number) => `${sharpHttp.baseUrl}/jpeg/${100 + (i % 200)}`;

    // warm-up: both servers' code optimised as under sustained traffic
    let next = 0;
    await round(tessera.server, tesseraUrl, next, true);
    next += IMAGES;
    await round(sharpHttp.server, sharpUrl, 0, false);

    const columns: Column[] = ['server', 'postgres', 'redis', 'client'];
    const measured: Record<'tessera' | 'sharp', Record<Column, number[]>> = {
      tessera: { server: [], postgres: [], redis: [], client: [] },
      sharp: { server: [], postgres: [], redis: [], client: [] },
    };
    const excess: number[] = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      const order = r % 2 === 0 ? (['tessera', 'sharp'] as const) : (['sharp', 'tessera'] as const);
      const got: Partial<Record<'tessera' | 'sharp', Record<Column, number>>> = {};
      for (const system of order) {
        got[system] =
          system === 'tessera'
            ? await round(tessera.server, tesseraUrl, next, true)
            : await round(sharpHttp.server, sharpUrl, 0, false);
        if (system === 'tessera') next += IMAGES;
        for (const column of columns) measured[system][column].push(got[system][column]);
      }
      const t = got.tessera!;
      const s = got.sharp!;
      excess.push(t.server + t.postgres + t.redis - (s.server + s.postgres + s.redis));
      process.stderr.write(
        `round ${r + 1}/${ROUNDS}: Tessera ${t.server.toFixed(2)} + PostgreSQL ${t.postgres.toFixed(2)} + Redis ${t.redis.toFixed(2)} ms/image, Sharp+http ${s.server.toFixed(2)}\n`,
      );
    }
    const row = (label: string, values: Record<Column, number[]>) =>
      `${label.padEnd(12)}${columns.map((c) => formatSummary(summarize(values[c]), 3).padEnd(24)).join('')}`;
    process.stdout.write(
      [
        '',
        `CPU ms per new variant (${SOURCE_WIDTH}×${SOURCE_HEIGHT} JPEG → 100–299 px JPEG, ${CONCURRENCY} at a time, ${ROUNDS} rounds of ${IMAGES}; Tessera on ${components.registry}, ${components.cache} cache, ${components.storage} storage)`,
        `${''.padEnd(12)}${columns.map((c) => c.padEnd(24)).join('')}`,
        row('Tessera', measured.tessera),
        row('Sharp+http', measured.sharp),
        `Tessera's own work per new variant (its server, PostgreSQL and Redis, beyond Sharp+http's): ${formatSummary(summarize(excess), 3)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const server of servers) await server.stop(5000);
    await components.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
