/**
 * Pixel comparisons for the delivery suites: what a person looking at two renders would notice,
 * measured (mean difference of a region, sharpness, a pixel's colour).
 */
import sharp, { type Sharp } from 'sharp';

/** RGB pixels of an image (alpha dropped, grey expanded to three channels). */
export async function rgb(bytes: Buffer | Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  const image = Buffer.isBuffer(bytes) ? sharp(bytes) : bytes;
  const { data, info } = await image
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return { data, width: info.width, height: info.height };
  // A one-channel image: repeat the grey value.
  const out = Buffer.alloc(info.width * info.height * 3);
  for (let i = 0; i < info.width * info.height; i += 1) out.fill(data[i * info.channels]!, i * 3, i * 3 + 3);
  return { data: out, width: info.width, height: info.height };
}

/** A region, px. */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Mean absolute difference per channel value (0–255) of two same-sized images, over a region (default all). */
export async function meanDifference(a: Buffer | Sharp, b: Buffer | Sharp, region?: Region): Promise<number> {
  const [x, y] = await Promise.all([rgb(a), rgb(b)]);
  if (x.width !== y.width || x.height !== y.height)
    throw new Error(`sizes differ: ${x.width}×${x.height} vs ${y.width}×${y.height}`);
  const r = region ?? { left: 0, top: 0, width: x.width, height: x.height };
  let sum = 0;
  for (let row = r.top; row < r.top + r.height; row += 1) {
    for (let col = r.left; col < r.left + r.width; col += 1) {
      const i = (row * x.width + col) * 3;
      for (let c = 0; c < 3; c += 1) sum += Math.abs(x.data[i + c]! - y.data[i + c]!);
    }
  }
  return sum / (r.width * r.height * 3);
}

/** Mean absolute difference between horizontally adjacent pixels: how sharp an image looks. */
export async function sharpness(bytes: Buffer): Promise<number> {
  const { data, width, height } = await rgb(bytes);
  let sum = 0;
  for (let row = 0; row < height; row += 1) {
    for (let col = 1; col < width; col += 1) {
      const i = (row * width + col) * 3;
      for (let c = 0; c < 3; c += 1) sum += Math.abs(data[i + c]! - data[i - 3 + c]!);
    }
  }
  return sum / (height * (width - 1) * 3);
}

/** The RGB colour of one pixel. */
export async function pixel(bytes: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, width } = await rgb(bytes);
  const i = (y * width + x) * 3;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

/** Largest difference between the means of the colour channels (0 for a grey image). */
export async function channelSpread(bytes: Buffer): Promise<number> {
  const { channels } = await sharp(bytes).stats();
  if (channels.length < 3) return 0;
  const means = channels.slice(0, 3).map((c) => c.mean);
  return Math.max(...means) - Math.min(...means);
}
