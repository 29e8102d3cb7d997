import { describe, it, expect } from '@jest/globals';
import { decode as decodeBlurhash, isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';
import { fixture, type FixtureName } from '../support/fixtures.js';
import {
  blurhashComponents,
  computePlaceholder,
  fitWithin,
  LQIP_MAX_SIDE,
  PLACEHOLDER_SOURCE_MAX_SIDE,
  type RgbaPixels,
} from '../../src/imaging/placeholder.js';

type Rgb = { r: number; g: number; b: number };

/** An RGBA thumbnail of a photo, as `probeImage` makes it. */
async function thumbnail(name: FixtureName, maxSide = PLACEHOLDER_SOURCE_MAX_SIDE): Promise<RgbaPixels> {
  const { width, height } = await sharp(fixture(name)).metadata();
  const size = fitWithin(width, height, maxSide);
  const { data } = await sharp(fixture(name))
    .resize({ ...size, fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, ...size };
}

/** Mean RGB of RGBA pixels, weighted by alpha. */
function meanOf(rgba: ArrayLike<number>): Rgb {
  let r = 0,
    g = 0,
    b = 0,
    w = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    r += rgba[i]! * a;
    g += rgba[i + 1]! * a;
    b += rgba[i + 2]! * a;
    w += a;
  }
  return { r: r / w, g: g / w, b: b / w };
}

/** Mean RGB of the whole photograph at full resolution, by Sharp. */
async function photoMean(name: FixtureName): Promise<Rgb> {
  const { channels } = await sharp(fixture(name)).stats();
  return { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
}

const distance = (a: Rgb, b: Rgb): number => Math.hypot(a.r - b.r, a.g - b.g, a.b - b.b);
const parseHex = (hex: string): Rgb => ({
  r: parseInt(hex.slice(1, 3), 16),
  g: parseInt(hex.slice(3, 5), 16),
  b: parseInt(hex.slice(5, 7), 16),
});

const toLinear = (v: number): number => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};
const toSrgb = (l: number): number => 255 * (l <= 0.0031308 ? l * 12.92 : 1.055 * l ** (1 / 2.4) - 0.055);

/** Mean RGB of RGBA or RGB pixels averaged in linear light, back in sRGB. */
function linearMeanOf(pixels: ArrayLike<number>, channels = 4): Rgb {
  let r = 0,
    g = 0,
    b = 0,
    n = 0;
  for (let i = 0; i < pixels.length; i += channels) {
    r += toLinear(pixels[i]!);
    g += toLinear(pixels[i + 1]!);
    b += toLinear(pixels[i + 2]!);
    n++;
  }
  return { r: toSrgb(r / n), g: toSrgb(g / n), b: toSrgb(b / n) };
}

/** The full-size photograph's RGB pixels. */
async function photoPixels(name: FixtureName): Promise<Buffer> {
  return sharp(fixture(name)).removeAlpha().raw().toBuffer();
}

async function photoLinearMean(name: FixtureName): Promise<Rgb> {
  return linearMeanOf(await photoPixels(name), 3);
}

/** Share (0–1) of the full-size photo's pixels within RGB distance 32 of `colour`. */
async function photoShareNear(name: FixtureName, colour: Rgb): Promise<number> {
  const data = await photoPixels(name);
  let near = 0;
  for (let i = 0; i < data.length; i += 3) {
    if (distance({ r: data[i]!, g: data[i + 1]!, b: data[i + 2]! }, colour) < 32) near++;
  }
  return near / (data.length / 3);
}

const PHOTOS: readonly FixtureName[] = [
  'rocket.jpg',
  'chelsea.png',
  'coffee.png',
  'astronaut.png',
  'hubble_deep_field.jpg',
];

describe('computePlaceholder on real photographs', () => {
  it.each(PHOTOS)(
    '%s: the BlurHash decodes to the photo’s mean colour (in linear light, as BlurHash averages)',
    async (name) => {
      const pixels = await thumbnail(name);
      const { blurhash, width, height } = await computePlaceholder(pixels);
      expect(isBlurhashValid(blurhash).result).toBe(true);
      expect(blurhash).toHaveLength(
        4 + 2 * blurhashComponents(pixels.width, pixels.height).reduce((x, y) => x * y),
      );
      const decoded = decodeBlurhash(blurhash, width * 4, height * 4);
      // The thumbnail is shrunk in sRGB (the cheap, shrink-on-load way), which dims sparse bright
      // points such as the stars of the Hubble deep field by a few levels.
      expect(distance(linearMeanOf(decoded), await photoLinearMean(name))).toBeLessThan(16);
    },
  );

  it.each(PHOTOS)('%s: the ThumbHash decodes to the photo’s mean colour and aspect ratio', async (name) => {
    const pixels = await thumbnail(name);
    const { thumbhash } = await computePlaceholder(pixels);
    const hash = Buffer.from(thumbhash, 'base64');
    expect(hash.length).toBeLessThanOrEqual(30);
    const { rgba } = thumbHashToRGBA(hash);
    expect(distance(meanOf(rgba), await photoMean(name))).toBeLessThan(12);
    const { width, height } = await sharp(fixture(name)).metadata();
    expect(thumbHashToApproximateAspectRatio(hash)).toBeCloseTo(width / height, 0);
  });

  it.each(PHOTOS)('%s: the LQIP is a tiny WebP data URI with the photo’s aspect ratio', async (name) => {
    const placeholder = await computePlaceholder(await thumbnail(name));
    const match = /^data:image\/webp;base64,([A-Za-z0-9+/]+={0,2})$/.exec(placeholder.lqip);
    expect(match).not.toBeNull();
    expect(placeholder.lqip.length).toBeLessThanOrEqual(1024);
    const webp = Buffer.from(match![1]!, 'base64');
    const meta = await sharp(webp).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([placeholder.width, placeholder.height]);
    expect(Math.max(meta.width, meta.height)).toBe(LQIP_MAX_SIDE);
    const { width, height } = await sharp(fixture(name)).metadata();
    expect(Math.abs(meta.width / meta.height - width / height)).toBeLessThan(0.1);
    // It shows the photo: its mean colour is the photo's.
    const { data } = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(distance(meanOf(data), await photoMean(name))).toBeLessThan(12);
  });

  it.each(PHOTOS)(
    '%s: the dominant colour covers as much of the photo as Sharp’s dominant colour',
    async (name) => {
      const { dominantColor: hex } = await computePlaceholder(await thumbnail(name));
      expect(hex).toMatch(/^#[0-9a-f]{6}$/);
      const { dominant } = await sharp(fixture(name)).stats();
      const ours = await photoShareNear(name, parseHex(hex));
      expect(ours).toBeGreaterThan(0.15);
      expect(ours).toBeGreaterThanOrEqual(0.95 * (await photoShareNear(name, dominant)));
    },
  );

  it('picks the sky of the rocket launch photo, like Sharp', async () => {
    const { dominantColor: hex } = await computePlaceholder(await thumbnail('rocket.jpg'));
    const { dominant } = await sharp(fixture('rocket.jpg')).stats();
    expect(distance(parseHex(hex), dominant)).toBeLessThan(48);
    const { b, r } = parseHex(hex);
    expect(b).toBeGreaterThan(r + 30);
  });

  it('is stable: the same pixels give the same placeholder', async () => {
    const pixels = await thumbnail('rocket.jpg');
    expect(await computePlaceholder(pixels)).toEqual(await computePlaceholder(pixels));
  });
});

describe('computePlaceholder with transparency', () => {
  /** The cat photo cut out in a circle: transparent corners around an opaque photograph. */
  async function cutOut(): Promise<RgbaPixels> {
    const mask = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="451" height="300"><ellipse cx="225" cy="150" rx="200" ry="140"/></svg>',
    );
    const png = await sharp(fixture('chelsea.png'))
      .ensureAlpha()
      .composite([{ input: mask, blend: 'dest-in' }])
      .png()
      .toBuffer();
    const size = fitWithin(451, 300);
    const { data } = await sharp(png)
      .resize({ ...size, fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, ...size };
  }

  it('keeps transparency in ThumbHash and LQIP and ignores transparent pixels for the dominant colour', async () => {
    const pixels = await cutOut();
    expect(pixels.data[3]).toBe(0);
    const placeholder = await computePlaceholder(pixels);

    const { rgba } = thumbHashToRGBA(Buffer.from(placeholder.thumbhash, 'base64'));
    const alphas = Array.from({ length: rgba.length / 4 }, (_, i) => rgba[i * 4 + 3]!);
    expect(Math.min(...alphas)).toBeLessThan(128);
    expect(Math.max(...alphas)).toBeGreaterThan(200);

    const webp = Buffer.from(placeholder.lqip.split(',')[1]!, 'base64');
    const lqip = await sharp(webp).raw().toBuffer({ resolveWithObject: true });
    expect(lqip.info.channels).toBe(4);
    expect(lqip.data[3]).toBeLessThan(64);

    // Transparent pixels (black RGB here) are not what dominates: the cat's fur colour is.
    const dominant = parseHex(placeholder.dominantColor);
    expect(
      distance(dominant, parseHex((await computePlaceholder(await thumbnail('chelsea.png'))).dominantColor)),
    ).toBeLessThan(24);

    // BlurHash has no alpha: transparent areas take the mean visible colour, as in ThumbHash.
    const decoded = decodeBlurhash(placeholder.blurhash, 32, 32);
    expect(distance(meanOf(decoded), meanOf(pixels.data))).toBeLessThan(24);
  });

  it('drops alpha from the LQIP of an opaque photo', async () => {
    const placeholder = await computePlaceholder(await thumbnail('rocket.jpg'));
    const webp = Buffer.from(placeholder.lqip.split(',')[1]!, 'base64');
    expect((await sharp(webp).metadata()).hasAlpha).toBe(false);
  });
});

describe('placeholder sizes', () => {
  it('fits sizes within a box keeping the aspect ratio', () => {
    expect(fitWithin(640, 427)).toEqual({ width: 100, height: 67 });
    expect(fitWithin(427, 640)).toEqual({ width: 67, height: 100 });
    expect(fitWithin(14, 25)).toEqual({ width: 14, height: 25 });
    expect(fitWithin(10_000, 10)).toEqual({ width: 100, height: 1 });
    expect(fitWithin(640, 427, LQIP_MAX_SIDE)).toEqual({ width: 24, height: 16 });
  });

  it('chooses BlurHash components by aspect ratio', () => {
    expect(blurhashComponents(640, 427)).toEqual([4, 3]);
    expect(blurhashComponents(427, 640)).toEqual([3, 4]);
    expect(blurhashComponents(500, 500)).toEqual([4, 4]);
    expect(blurhashComponents(1000, 100)).toEqual([4, 1]);
  });

  it('works on a one-pixel-high strip', async () => {
    const data = new Uint8Array(100 * 4).fill(200);
    const placeholder = await computePlaceholder({ data, width: 100, height: 1 });
    expect(placeholder.dominantColor).toBe('#c8c8c8');
    expect([placeholder.width, placeholder.height]).toEqual([24, 1]);
  });

  it('refuses thumbnails larger than ThumbHash allows or with the wrong byte count', async () => {
    await expect(
      computePlaceholder({ data: new Uint8Array(101 * 4), width: 101, height: 1 }),
    ).rejects.toThrow(RangeError);
    await expect(computePlaceholder({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(
      RangeError,
    );
    await expect(computePlaceholder({ data: new Uint8Array(0), width: 0, height: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});
