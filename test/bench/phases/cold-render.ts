/**
 * Cold render: throughput of distinct variants of the 2725×2225 photograph at 720 px wide
 * (720×588 and its neighbours 721, 722… so that every request is a render for every system), at
 * the same concurrency for all: Tessera's render limit. Systems are measured in turn, in a rotating
 * order, and each run's ratios are taken between systems measured moments apart.
 */
import sharp, { type Sharp } from 'sharp';
import { BENCH_HEIGHT, BENCH_WIDTH } from '../images.js';
import { closedLoop } from '../load.js';

export type ColdSystem = 'tessera' | 'sharp' | 'ipx' | 'sharp-libjpeg';

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

/** JPEG q80 (mozjpeg, as Tessera encodes), WebP q80, AVIF q50 at the configured effort. */
export function coldFormats(avifEffort: number, scale = 1): ColdFormat[] {
  const n = (count: number) => Math.max(2, Math.round(count * scale));
  return [
    {
      name: 'jpeg',
      perRun: n(16),
      tessera: { format: 'JPG', quality: 80 },
      ipx: 'f_jpeg,q_80',
      contentType: 'image/jpeg',
      encode: (image) => image.jpeg({ quality: 80, mozjpeg: true }),
    },
    {
      name: 'webp',
      perRun: n(16),
      tessera: { format: 'WEBP', quality: 80 },
      ipx: 'f_webp,q_80',
      contentType: 'image/webp',
      encode: (image) => image.webp({ quality: 80 }),
    },
    {
      name: 'avif',
      perRun: n(2),
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
  /** The source image bytes (raw Sharp works from memory, as Sharp's own benchmark does). */
  readonly source: Buffer;
  /** Renders at once: Tessera's MAX_CONCURRENT_RENDERS. */
  readonly concurrency: number;
  readonly runs: number;
}

/** What one format measured, per run (images/s) and per run's ratios. */
export interface ColdFormatResult {
  readonly format: ColdFormat['name'];
  readonly images: Partial<Record<ColdSystem, number[]>>;
  /** Tessera ÷ raw Sharp (same encoder settings), per run. */
  readonly vsSharp: number[];
  /** Tessera ÷ ipx, per run. */
  readonly vsIpx: number[];
  /** Output of the first request of each system: size and bytes. */
  readonly outputs: Partial<Record<ColdSystem, { width: number; height: number; bytes: number }>>;
}

const heightAt = (width: number) => Math.round((width * BENCH_HEIGHT) / BENCH_WIDTH);

async function fetchRender(url: string, tessera: boolean): Promise<Buffer> {
  const response = await fetch(url, { redirect: 'manual' });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${body.toString('utf8', 0, 300)}`);
  if (tessera && response.headers.get('x-cache') !== 'render')
    throw new Error(`${url} was answered from ${response.headers.get('x-cache')}, not rendered`);
  return body;
}

/** One image of `system`: the bytes it produced. */
function renderOne(
  system: ColdSystem,
  format: ColdFormat,
  width: number,
  targets: ColdTargets,
): Promise<Buffer> {
  switch (system) {
    case 'tessera':
      return fetchRender(targets.tesseraUrl(format, width), true);
    case 'ipx':
      return fetchRender(targets.ipxUrl(format, width), false);
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
  // Warm-up: code paths, libvips and encoders initialised in every process (widths outside the runs).
  for (const system of ['sharp', 'tessera', 'ipx'] as const)
    for (const format of formats.filter((f) => f.name !== 'avif'))
      await closedLoop(targets.concurrency, targets.concurrency, async (i) => {
        await renderOne(system, format, 600 + i, targets);
      });

  const results = formats.map((format): ColdFormatResult => ({
    format: format.name,
    images: {},
    vsSharp: [],
    vsIpx: [],
    outputs: {},
  }));
  for (let run = 0; run < targets.runs; run += 1) {
    for (const [f, format] of formats.entries()) {
      const result = results[f]!;
      const systems: ColdSystem[] = [
        'sharp',
        'tessera',
        'ipx',
        ...(format.name === 'jpeg' ? (['sharp-libjpeg'] as const) : []),
      ];
      const order = systems.map((_, i) => systems[(i + run) % systems.length]!);
      const perSecond: Partial<Record<ColdSystem, number>> = {};
      for (const system of order) {
        let first: Buffer | undefined;
        const seconds = await closedLoop(format.perRun, targets.concurrency, async (i) => {
          const body = await renderOne(system, format, 720 + run * format.perRun + i, targets);
          if (i === 0) first = body;
        });
        const rate = format.perRun / seconds;
        perSecond[system] = rate;
        (result.images[system] ??= []).push(rate);
        if (run === 0 && first) {
          const meta = await sharp(first).metadata();
          result.outputs[system] = { width: meta.width ?? 0, height: meta.height ?? 0, bytes: first.length };
        }
        progress(`cold ${format.name} run ${run + 1}/${targets.runs} ${system}: ${rate.toFixed(2)} images/s`);
      }
      result.vsSharp.push(perSecond.tessera! / perSecond.sharp!);
      result.vsIpx.push(perSecond.tessera! / perSecond.ipx!);
    }
  }
  return results;
}
