/**
 * Cold render: throughput of distinct variants of the 2725×2225 photograph at 720 px wide
 * (720×588 and its neighbours 721, 722… so that every request is a render for every system), at
 * the same concurrency for all: Tessera's render limit. Systems are measured in turn, in a rotating
 * order, and each run's ratios are taken between systems measured moments apart.
 */
import sharp, { type Sharp } from 'sharp';
import { fullCollection } from '../../../src/observability/idle-gc.js';
import { header, httpGet } from '../client.js';
import { BENCH_HEIGHT, BENCH_WIDTH } from '../images.js';
import { closedLoop } from '../load.js';

/** `sharp-http`: Sharp behind Node's own http, the least an HTTP image server can do. */
export type ColdSystem = 'tessera' | 'sharp' | 'sharp-http' | 'ipx' | 'sharp-libjpeg';

/** One output format of the comparison. */
export interface ColdFormat {
  readonly name: 'jpeg' | 'webp' | 'avif';
  /** Images per run and system. */
  readonly perRun: number;
  /** Tessera's TransformInput besides the width. */
  readonly tessera: { readonly format: 'JPG' | 'WEBP' | 'AVIF'; readonly quality: number };
  /** ipx modifiers besides the width. */
  readonly ipx: string;
  readonly contentType: string;
  /** The encoder exactly as Tessera's renderer sets it. */
  encode(image: Sharp): Sharp;
}

/**
 * JPEG q80 (mozjpeg, as Tessera encodes), WebP q80, AVIF q50 at the configured effort; per run,
 * 16 images per render slot (one per slot for AVIF, tens of times slower).
 */
export function coldFormats(avifEffort: number, concurrency: number): ColdFormat[] {
  return [
    {
      name: 'jpeg',
      perRun: 16 * concurrency,
      tessera: { format: 'JPG', quality: 80 },
      ipx: 'f_jpeg,q_80',
      contentType: 'image/jpeg',
      encode: (image) => image.jpeg({ quality: 80, mozjpeg: true }),
    },
    {
      name: 'webp',
      perRun: 16 * concurrency,
      tessera: { format: 'WEBP', quality: 80 },
      ipx: 'f_webp,q_80',
      contentType: 'image/webp',
      encode: (image) => image.webp({ quality: 80 }),
    },
    {
      name: 'avif',
      perRun: concurrency,
      tessera: { format: 'AVIF', quality: 50 },
      ipx: 'f_avif,q_50',
      contentType: 'image/avif',
      encode: (image) => image.avif({ quality: 50, effort: avifEffort }),
    },
  ];
}

export interface ColdTargets {
  /** Tessera's URL of `format` at `width` (canonical: answered with a render, never redirected). */
  tesseraUrl(format: ColdFormat, width: number): string;
  /** ipx's URL of the same operation. */
  ipxUrl(format: ColdFormat, width: number): string;
  /** The URL of the same operation from Sharp behind Node's http. */
  sharpHttpUrl(format: ColdFormat, width: number): string;
  /** The source image bytes (raw Sharp works from memory, as Sharp's own benchmark does). */
  readonly source: Buffer;
  /** Renders at once: Tessera's MAX_CONCURRENT_RENDERS. */
  readonly concurrency: number;
  /** Runs at most; past the third, one more only when it ends before `deadline`. */
  readonly runs: number;
  /**
   * Epoch ms by which the runs should be over (judged from the runs so far), so that the bench's
   * later phases fit its time bound on a slower machine.
   */
  readonly deadline?: number;
}

/** Runs made whatever the deadline: a median of fewer is not worth reporting. */
const MIN_RUNS = 3;

/** What one format measured, per run (images/s) and per run's ratios. */
export interface ColdFormatResult {
  readonly format: ColdFormat['name'];
  readonly images: Partial<Record<ColdSystem, number[]>>;
  /** Tessera ÷ raw Sharp (same encoder settings), per run. */
  readonly vsSharp: number[];
  /** Tessera ÷ ipx, per run. */
  readonly vsIpx: number[];
  /** Sharp behind Node's http ÷ raw Sharp, per run: what answering over HTTP costs any server. */
  readonly httpOverSharp: number[];
  /** Output of the first request of each system: size and bytes. */
  readonly outputs: Partial<Record<ColdSystem, { width: number; height: number; bytes: number }>>;
  /**
   * Where a Tessera request's time goes, per request, ms: as the client saw it, as the server
   * timed it (`Server-Timing: total`), and the render itself (`render`: admission wait, reading
   * the original, Sharp).
   */
  readonly tesseraTimings: { clientMs: number[]; serverMs: number[]; renderMs: number[] };
  /** CPU time the bench process spent per image asking an HTTP system (the load generator's), ms, per run. */
  readonly clientCpuMs: Partial<Record<'tessera' | 'ipx', number[]>>;
}

const collect = fullCollection();

/** Images per slot in one system's turn of a round. */
const WAVES = 4;
/** Images per slot asked of each system and format before the runs. */
const WARM_UP = 8;

const heightAt = (width: number) => Math.round((width * BENCH_HEIGHT) / BENCH_WIDTH);

type Timings = ColdFormatResult['tesseraTimings'];

async function fetchRender(url: string, timings?: Timings): Promise<Buffer> {
  const started = performance.now();
  const response = await httpGet(url);
  const { body } = response;
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${body.toString('utf8', 0, 300)}`);
  if (timings) {
    if (header(response, 'x-cache') !== 'render')
      throw new Error(`${url} was answered from ${header(response, 'x-cache')}, not rendered`);
    const serverTiming = header(response, 'server-timing') ?? '';
    timings.clientMs.push(performance.now() - started);
    timings.serverMs.push(Number(/total;dur=([\d.]+)/.exec(serverTiming)?.[1] ?? Number.NaN));
    timings.renderMs.push(Number(/render;dur=([\d.]+)/.exec(serverTiming)?.[1] ?? Number.NaN));
  }
  return body;
}

/** One image of `system`: the bytes it produced. */
function renderOne(
  system: ColdSystem,
  format: ColdFormat,
  width: number,
  targets: ColdTargets,
  timings?: Timings,
): Promise<Buffer> {
  switch (system) {
    case 'tessera':
      return fetchRender(
        targets.tesseraUrl(format, width),
        timings ?? { clientMs: [], serverMs: [], renderMs: [] },
      );
    case 'ipx':
      return fetchRender(targets.ipxUrl(format, width));
    case 'sharp-http':
      return fetchRender(targets.sharpHttpUrl(format, width));
    case 'sharp':
      return format.encode(sharp(targets.source).resize(width, heightAt(width))).toBuffer();
    case 'sharp-libjpeg':
      return sharp(targets.source).resize(width, heightAt(width)).jpeg({ quality: 80 }).toBuffer();
  }
}

/**
 * Measures every format, `targets.runs` times per system.
 * @param progress told of each measurement, for the console.
 * @throws Error when any request fails, or Tessera answers from a cache (not a cold render).
 */
export async function measureColdRender(
  formats: readonly ColdFormat[],
  targets: ColdTargets,
  progress: (line: string) => void,
): Promise<ColdFormatResult[]> {
  // Warm-up: libvips and encoders initialised in every process, and each server's code compiled
  // as sustained traffic has it compiled (V8 optimises a function after some calls, not at the
  // first), WARM_UP images per slot (widths outside the runs).
  for (const system of ['sharp', 'tessera', 'ipx', 'sharp-http'] as const)
    for (const format of formats.filter((f) => f.name !== 'avif'))
      await closedLoop(WARM_UP * targets.concurrency, targets.concurrency, async (i) => {
        await renderOne(system, format, 600 + i, targets);
      });

  const results = formats.map((format): ColdFormatResult => ({
    format: format.name,
    images: {},
    vsSharp: [],
    vsIpx: [],
    httpOverSharp: [],
    outputs: {},
    tesseraTimings: { clientMs: [], serverMs: [], renderMs: [] },
    clientCpuMs: {},
  }));
  const runsStarted = Date.now();
  for (let run = 0; run < targets.runs; run += 1) {
    const perRun = run === 0 ? 0 : (Date.now() - runsStarted) / run;
    if (run >= MIN_RUNS && targets.deadline !== undefined && Date.now() + perRun > targets.deadline) {
      progress(`cold render: ${run} runs, as one more would end past the bench's time for them`);
      break;
    }
    for (const [f, format] of formats.entries()) {
      const result = results[f]!;
      const systems: ColdSystem[] = [
        'sharp',
        'tessera',
        'ipx',
        'sharp-http',
        ...(format.name === 'jpeg' ? (['sharp-libjpeg'] as const) : []),
      ];
      // The run is taken in rounds, every system in turn in each, so that a change in the
      // machine's other load falls on all systems alike.
      // Each turn is several images per slot: throughput at a steady load, not the filling and
      // draining of the slots at its start and end (every slot starting at once leaves the cores
      // idle together during a server's work before its render, which a steady load overlaps).
      const rounds = Math.max(1, Math.floor(format.perRun / (WAVES * targets.concurrency)));
      const chunk = Math.floor(format.perRun / rounds);
      const images = chunk * rounds;
      const seconds: Partial<Record<ColdSystem, number>> = {};
      const clientCpu: Partial<Record<ColdSystem, number>> = {};
      for (let round = 0; round < rounds; round += 1) {
        // This process's garbage (raw Sharp's buffers, every answer's body) collected between
        // rounds: a full collection it would otherwise run in the middle of some system's turn
        // (about 100 ms of CPU on these cores) is charged to no system.
        collect?.();
        for (let k = 0; k < systems.length; k += 1) {
          const system = systems[(k + run + round) % systems.length]!;
          let first: Buffer | undefined;
          const cpuBefore = process.cpuUsage();
          seconds[system] =
            (seconds[system] ?? 0) +
            (await closedLoop(chunk, targets.concurrency, async (i) => {
              const body = await renderOne(
                system,
                format,
                720 + run * images + round * chunk + i,
                targets,
                result.tesseraTimings,
              );
              if (i === 0) first = body;
            }));
          const cpu = process.cpuUsage(cpuBefore);
          clientCpu[system] = (clientCpu[system] ?? 0) + (cpu.user + cpu.system) / 1000;
          if (run === 0 && round === 0 && first) {
            const meta = await sharp(first).metadata();
            result.outputs[system] = {
              width: meta.width ?? 0,
              height: meta.height ?? 0,
              bytes: first.length,
            };
          }
        }
      }
      const perSecond: Partial<Record<ColdSystem, number>> = {};
      for (const system of systems) {
        const rate = images / seconds[system]!;
        perSecond[system] = rate;
        (result.images[system] ??= []).push(rate);
      }
      progress(
        `cold ${format.name} run ${run + 1}/${targets.runs}: ${systems.map((system) => `${system} ${perSecond[system]!.toFixed(2)}`).join(', ')} images/s`,
      );
      for (const system of ['tessera', 'ipx'] as const)
        (result.clientCpuMs[system] ??= []).push(clientCpu[system]! / images);
      result.httpOverSharp.push(perSecond['sharp-http']! / perSecond.sharp!);
      result.vsSharp.push(perSecond.tessera! / perSecond.sharp!);
      result.vsIpx.push(perSecond.tessera! / perSecond.ipx!);
    }
  }
  return results;
}
