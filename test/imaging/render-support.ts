/** Helpers for the renderer tests: render an ops string, read pixels back, find a marked corner. */
import sharp from 'sharp';
import { expect } from '@jest/globals';
import { renderVariant, type RenderContext, type RenderedVariant } from '../../src/imaging/render.js';
import { parseOps, type OutputFormat, type TransformPlan } from '../../src/transforms/index.js';
import { fixture } from '../support/fixtures.js';

export const LIMITS = { maxInputPixels: 100_000_000, maxOutputDimension: 8192, timeoutSeconds: 30 } as const;

/** The plan of an ops string. */
export function planOf(ops: string): TransformPlan {
  const parsed = parseOps(ops, { maxOutputDimension: LIMITS.maxOutputDimension });
  if (parsed.kind !== 'transform') throw new Error(`${ops} is not a transform`);
  return parsed.plan;
}

/** Renders `ops` (format from its `fmt_`, else `format`, else PNG: lossless, so pixels compare exactly). */
export function render(
  source: Buffer,
  ops: string,
  ctx: Partial<RenderContext> = {},
): Promise<RenderedVariant> {
  const plan = planOf(ops);
  const format: OutputFormat = ctx.format ?? (plan.format && plan.format !== 'auto' ? plan.format : 'png');
  return renderVariant(source, plan, { limits: LIMITS, ...ctx, format });
}

export interface Pixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Decoded pixels of an image as sRGB (alpha kept when present). */
export async function pixels(image: Buffer, page = 0): Promise<Pixels> {
  const { data, info } = await sharp(image, { page })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export const pixelAt = (p: Pixels, x: number, y: number): number[] => {
  const i = (y * p.width + x) * p.channels;
  return [...p.data.subarray(i, i + p.channels)];
};

/** Mean absolute difference per channel value of two same-sized regions, 0–255. */
export function meanDiff(
  a: Pixels,
  b: Pixels,
  region?: { left: number; top: number; width: number; height: number },
): number {
  expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
  const r = region ?? { left: 0, top: 0, width: a.width, height: a.height };
  let sum = 0;
  let count = 0;
  for (let y = r.top; y < r.top + r.height; y += 1) {
    for (let x = r.left; x < r.left + r.width; x += 1) {
      const i = (y * a.width + x) * a.channels;
      for (let c = 0; c < Math.min(3, a.channels); c += 1) {
        sum += Math.abs(a.data[i + c]! - b.data[i + c]!);
        count += 1;
      }
    }
  }
  return sum / count;
}

const isRed = (px: number[]): boolean => px[0]! > 190 && px[1]! < 70 && px[2]! < 70;

/** The corners (nw, ne, sw, se) whose pixel 3 px in from the edges is the marker red. */
export async function redCorners(image: Buffer): Promise<string[]> {
  const p = await pixels(image);
  const m = 3;
  const corners: [string, number, number][] = [
    ['nw', m, m],
    ['ne', p.width - 1 - m, m],
    ['sw', m, p.height - 1 - m],
    ['se', p.width - 1 - m, p.height - 1 - m],
  ];
  return corners.filter(([, x, y]) => isRed(pixelAt(p, x, y))).map(([name]) => name);
}

/**
 * rocket.jpg (640×427) with an 80×80 pure red square in its top-left corner: an asymmetric
 * photograph whose orientation can be read back from any output.
 */
export async function markedRocket(): Promise<Buffer> {
  return sharp(fixture('rocket.jpg'))
    .composite([
      { input: { create: { width: 80, height: 80, channels: 3, background: '#ff0000' } }, left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** The format a file's first bytes announce. */
export function magicFormat(data: Buffer): string {
  if (data.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'jpg';
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (data.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'webp';
  if (
    data.subarray(4, 8).toString('latin1') === 'ftyp' &&
    ['avif', 'avis'].includes(data.subarray(8, 12).toString('latin1'))
  )
    return 'avif';
  return 'unknown';
}
