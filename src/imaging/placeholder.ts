/**
 * Placeholders shown while an image loads: BlurHash, ThumbHash, a tiny WebP data URI (LQIP) and a
 * dominant colour, all computed from one small RGBA thumbnail that the caller has already decoded.
 */
import { encode as encodeBlurhash } from 'blurhash';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

/** Placeholders of one image. */
export interface Placeholder {
  /** BlurHash (https://blurha.sh) of the image, components chosen by aspect ratio (e.g. 4×3). */
  readonly blurhash: string;
  /** ThumbHash (https://evanw.github.io/thumbhash/), standard base64; keeps alpha and aspect ratio. */
  readonly thumbhash: string;
  /** `data:image/webp;base64,...` of a tiny version (at most `LQIP_MAX_SIDE` px, about 1 KB at most). */
  readonly lqip: string;
  /** Most frequent colour, `#rrggbb`, transparent pixels ignored. */
  readonly dominantColor: string;
  /** Width of the tiny LQIP image, px (its aspect ratio is the image's). */
  readonly width: number;
  /** Height of the tiny LQIP image, px. */
  readonly height: number;
}

/** Unpremultiplied 8-bit RGBA pixels, row by row, `width × height × 4` bytes. */
export interface RgbaPixels {
  readonly data: Uint8Array;
  /** px, 1 to `PLACEHOLDER_SOURCE_MAX_SIDE` */
  readonly width: number;
  /** px, 1 to `PLACEHOLDER_SOURCE_MAX_SIDE` */
  readonly height: number;
}

/** Longest side of the thumbnail that placeholders are computed from, px (ThumbHash's own limit). */
export const PLACEHOLDER_SOURCE_MAX_SIDE = 100;

/** Longest side of the LQIP image, px: small enough for about 1 KB, enough for a smooth blur. */
export const LQIP_MAX_SIDE = 24;

/** WebP quality of the LQIP image (1–100): the browser blurs it, detail is not the point. */
const LQIP_QUALITY = 50;

/** BlurHash components along the longer side; the shorter side gets proportionally fewer (≥ 1). */
const BLURHASH_LONG_SIDE_COMPONENTS = 4;

/**
 * The size that fits `width × height` within `maxSide` keeping the aspect ratio, each side ≥ 1 px.
 * @param width px, > 0
 * @param height px, > 0
 * @param maxSide px, ≥ 1 (default `PLACEHOLDER_SOURCE_MAX_SIDE`)
 */
export function fitWithin(
  width: number,
  height: number,
  maxSide = PLACEHOLDER_SOURCE_MAX_SIDE,
): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return {
    width: Math.max(1, Math.min(maxSide, Math.round(width * scale))),
    height: Math.max(1, Math.min(maxSide, Math.round(height * scale))),
  };
}

/** BlurHash components `[x, y]` for an aspect ratio: 4 along the longer side, e.g. 4×3 for 3:2. */
export function blurhashComponents(width: number, height: number): [number, number] {
  const long = BLURHASH_LONG_SIDE_COMPONENTS;
  const short = (a: number, b: number): number => Math.min(long, Math.max(1, Math.round((long * a) / b)));
  return width >= height ? [long, short(height, width)] : [short(width, height), long];
}

const hex = (value: number): string =>
  Math.round(Math.min(255, Math.max(0, value)))
    .toString(16)
    .padStart(2, '0');
const toHexColor = (r: number, g: number, b: number): string => `#${hex(r)}${hex(g)}${hex(b)}`;

/**
 * The most frequent colour: pixels binned in a 16×16×16 RGB histogram (as Sharp's `stats().dominant`),
 * each weighted by its alpha. A bin's score includes its 26 neighbours, so that a colour spread over
 * a gradient is not beaten by a small flat patch; the answer is the mean colour of the pixels in the
 * best-scoring neighbourhood. A fully transparent image answers the mean of its RGB values.
 */
export function dominantColor(pixels: RgbaPixels): string {
  const { data } = pixels;
  const weight = new Float64Array(4096);
  const sums = new Float64Array(4096 * 3);
  const binOf = (r: number, g: number, b: number): number => (r << 8) | (g << 4) | b;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    if (a === 0) continue;
    const r = data[i]!,
      g = data[i + 1]!,
      b = data[i + 2]!;
    const bin = binOf(r >> 4, g >> 4, b >> 4);
    weight[bin]! += a;
    sums[bin * 3]! += r * a;
    sums[bin * 3 + 1]! += g * a;
    sums[bin * 3 + 2]! += b * a;
  }
  const neighbourhood = (bin: number): number[] => {
    const r = bin >> 8,
      g = (bin >> 4) & 15,
      b = bin & 15;
    const bins: number[] = [];
    for (let dr = -1; dr <= 1; dr++)
      for (let dg = -1; dg <= 1; dg++)
        for (let db = -1; db <= 1; db++) {
          const nr = r + dr,
            ng = g + dg,
            nb = b + db;
          if (nr >= 0 && nr < 16 && ng >= 0 && ng < 16 && nb >= 0 && nb < 16) bins.push(binOf(nr, ng, nb));
        }
    return bins;
  };
  let best = -1;
  let bestScore = 0;
  for (let bin = 0; bin < 4096; bin++) {
    if (weight[bin] === 0) continue;
    const score = neighbourhood(bin).reduce((sum, n) => sum + weight[n]!, 0);
    if (score > bestScore) [best, bestScore] = [bin, score];
  }
  if (best < 0) {
    const mean = meanColor(pixels, false);
    return toHexColor(mean.r, mean.g, mean.b);
  }
  let r = 0,
    g = 0,
    b = 0;
  for (const n of neighbourhood(best))
    [r, g, b] = [r + sums[n * 3]!, g + sums[n * 3 + 1]!, b + sums[n * 3 + 2]!];
  return toHexColor(r / bestScore, g / bestScore, b / bestScore);
}

/** Mean RGB, alpha-weighted when `weighted` (falls back to unweighted when all is transparent). */
function meanColor(pixels: RgbaPixels, weighted: boolean): { r: number; g: number; b: number } {
  const { data } = pixels;
  let r = 0,
    g = 0,
    b = 0,
    w = 0;
  for (let i = 0; i < data.length; i += 4) {
    const a = weighted ? data[i + 3]! : 255;
    r += data[i]! * a;
    g += data[i + 1]! * a;
    b += data[i + 2]! * a;
    w += a;
  }
  if (w === 0) return weighted ? meanColor(pixels, false) : { r: 0, g: 0, b: 0 };
  return { r: r / w, g: g / w, b: b / w };
}

/** RGB for BlurHash, which has no alpha: transparent pixels composited over the mean visible colour (as ThumbHash does). */
function flattenForBlurhash(pixels: RgbaPixels): Uint8ClampedArray {
  const { data } = pixels;
  const out = new Uint8ClampedArray(data.length);
  const mean = meanColor(pixels, true);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]! / 255;
    out[i] = data[i]! * a + mean.r * (1 - a);
    out[i + 1] = data[i + 1]! * a + mean.g * (1 - a);
    out[i + 2] = data[i + 2]! * a + mean.b * (1 - a);
    out[i + 3] = 255;
  }
  return out;
}

const isOpaque = (data: Uint8Array): boolean => {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
};

/**
 * All placeholders of an image from one small RGBA thumbnail of it (already oriented for display).
 * Decodes nothing; encodes only the tiny LQIP WebP.
 *
 * @param pixels unpremultiplied RGBA, each side 1 to `PLACEHOLDER_SOURCE_MAX_SIDE` (100) px, with the
 *   image's aspect ratio (`fitWithin` gives the size).
 * @throws RangeError when the size is out of range or `data` is not `width × height × 4` bytes.
 * @example
 *   const { data, info } = await sharp(input).resize({ ...fitWithin(w, h), fit: 'fill' })
 *     .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
 *   const placeholder = await computePlaceholder({ data, width: info.width, height: info.height });
 */
export async function computePlaceholder(pixels: RgbaPixels): Promise<Placeholder> {
  const { data, width, height } = pixels;
  const sideOk = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= PLACEHOLDER_SOURCE_MAX_SIDE;
  if (!sideOk(width) || !sideOk(height)) {
    throw new RangeError(
      `Expected width and height between 1 and ${PLACEHOLDER_SOURCE_MAX_SIDE} px but received ${width}×${height}`,
    );
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`Expected ${width * height * 4} bytes of RGBA but received ${data.length}`);
  }

  const [componentsX, componentsY] = blurhashComponents(width, height);
  const blurhash = encodeBlurhash(flattenForBlurhash(pixels), width, height, componentsX, componentsY);
  const thumbhash = Buffer.from(rgbaToThumbHash(width, height, data)).toString('base64');

  const tiny = fitWithin(width, height, LQIP_MAX_SIDE);
  let lqipPipeline = sharp(data, { raw: { width, height, channels: 4 } }).resize({ ...tiny, fit: 'fill' });
  if (isOpaque(data)) lqipPipeline = lqipPipeline.removeAlpha();
  const webp = await lqipPipeline
    .webp({ quality: LQIP_QUALITY, alphaQuality: LQIP_QUALITY, effort: 6 })
    .toBuffer();

  return {
    blurhash,
    thumbhash,
    lqip: `data:image/webp;base64,${webp.toString('base64')}`,
    dominantColor: dominantColor(pixels),
    width: tiny.width,
    height: tiny.height,
  };
}
