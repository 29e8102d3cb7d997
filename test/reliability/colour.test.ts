/**
 * Colour through the whole server: a photograph uploaded as CMYK (with and without its profile),
 * in Display P3 with its profile, or with an ICC profile that is broken, comes out of the image
 * endpoint as sRGB whose pixels are close to the sRGB original rendered the same way. Ignoring a
 * valid profile, inverting CMYK or trusting a broken profile all land far outside these bounds.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { pngChunk } from '../support/hostile-files.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { JOBS_OFF, uploadAsset } from '../ingestion/ingest-client.js';
import { afterSoi, iccSegments, noise } from './hostile-corpus.js';

/** Mean absolute difference per channel (R, G, B) and the 99th percentile over all samples. */
function difference(a: Buffer, b: Buffer): { mean: number[]; p99: number } {
  expect(a.length).toBe(b.length);
  const sums = [0, 0, 0];
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < a.length; i += 1) {
    const d = Math.abs(a[i]! - b[i]!);
    sums[i % 3]! += d;
    counts[d]! += 1;
  }
  let seen = 0;
  let p99 = 0;
  for (; p99 < 256; p99 += 1) {
    seen += counts[p99]!;
    if (seen >= a.length * 0.99) break;
  }
  return { mean: sums.map((s) => Math.round((s / (a.length / 3)) * 100) / 100), p99 };
}

const hex = (color: string): number[] => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));

describeWith([], 'reliability: CMYK and broken ICC profiles become the right sRGB colours', () => {
  let t: TestTessera;
  let reference: { pixels: Buffer; dominant: number[] };
  const rocket = fixture('rocket.jpg');

  /** Uploads `bytes`, renders them 160 px wide as PNG through the image endpoint: RGB pixels, as served. */
  async function served(bytes: Buffer, filename: string) {
    const res = await uploadAsset(t, { bytes, filename });
    expect(res.errors).toBeUndefined();
    const asset = res.data!.uploadAsset;
    const urls = await t.gql<{ asset: { url: string } }>(
      `query($id: ID!) { asset(id: $id) { url(transform: { width: 160, format: PNG }) } }`,
      { id: asset.id },
    );
    const answer = await fetch(urls.data!.asset.url);
    expect(answer.status).toBe(200);
    const png = Buffer.from(await answer.arrayBuffer());
    const meta = await sharp(png).metadata();
    expect({ space: meta.space, channels: meta.channels, icc: meta.icc }).toEqual({
      space: 'srgb',
      channels: 3,
      icc: undefined,
    });
    return { asset, pixels: await sharp(png).raw().toBuffer() };
  }

  beforeAll(async () => {
    t = await startTestTessera({ env: { ...JOBS_OFF } });
    const original = await served(rocket, 'rocket.jpg');
    reference = { pixels: original.pixels, dominant: hex(original.asset.placeholder.dominantColor) };
  }, 120_000);
  afterAll(async () => t?.close());

  it('renders a CMYK JPEG without a profile as sRGB close to the original', async () => {
    const cmyk = await sharp(rocket).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect(await sharp(cmyk).metadata()).toMatchObject({ space: 'cmyk', channels: 4 });
    const { asset, pixels } = await served(cmyk, 'print.jpg');
    expect(asset.colorSpace).toBe('cmyk');
    const diff = difference(reference.pixels, pixels);
    for (const channel of diff.mean) expect(channel).toBeLessThan(16);
    expect(diff.p99).toBeLessThan(40);
    for (const [i, channel] of hex(asset.placeholder.dominantColor).entries())
      expect(Math.abs(channel - reference.dominant[i]!)).toBeLessThan(40);
  });

  it('renders a CMYK JPEG through its embedded CMYK profile as sRGB close to the original', async () => {
    const cmyk = await sharp(rocket).withIccProfile('cmyk').jpeg({ quality: 95 }).toBuffer();
    const meta = await sharp(cmyk).metadata();
    expect({ space: meta.space, icc: meta.icc !== undefined }).toEqual({ space: 'cmyk', icc: true });
    const { asset, pixels } = await served(cmyk, 'print-profiled.jpg');
    expect(asset.colorSpace).toBe('cmyk');
    const diff = difference(reference.pixels, pixels);
    for (const channel of diff.mean) expect(channel).toBeLessThan(12);
    expect(diff.p99).toBeLessThan(32);
  });

  it('converts a Display P3 photograph through its profile (ignoring the profile would be off by more)', async () => {
    const p3 = await sharp(rocket).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    const { pixels } = await served(p3, 'wide-gamut.jpg');
    const diff = difference(reference.pixels, pixels);
    for (const channel of diff.mean) expect(channel).toBeLessThan(2.5);
    // the same file read as if it were sRGB is visibly off: the bound above tells the two apart
    const unmanaged = await sharp(p3, { ignoreIcc: true })
      .resize({ width: 160 })
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(Math.max(...difference(reference.pixels, unmanaged).mean)).toBeGreaterThan(4);
  });

  it('treats a broken ICC profile (noise, cut short, or in a PNG) as sRGB: the colours of the original', async () => {
    const srgb = (await sharp(fixture('chelsea.png')).metadata()).icc!;
    const lying = Buffer.from(srgb.subarray(0, 600));
    lying.writeUInt32BE(50_000_000, 0); // claims 50 MB, stops after 600 bytes
    const png = await sharp(rocket).png().toBuffer();
    const broken: [string, Buffer][] = [
      ['icc-of-noise.jpg', afterSoi(rocket, ...iccSegments(noise(3000, 6)))],
      ['icc-cut-short.jpg', afterSoi(rocket, ...iccSegments(lying))],
      [
        'icc-of-noise.png',
        Buffer.concat([
          png.subarray(0, 33),
          pngChunk(
            'iCCP',
            Buffer.concat([Buffer.from('broken\0\0', 'latin1'), deflateSync(noise(4000, 11))]),
          ),
          png.subarray(33),
        ]),
      ],
    ];
    for (const [name, bytes] of broken) {
      // the JPEG decoder hands the broken profile on; the PNG decoder drops it
      if (name.endsWith('.jpg')) expect((await sharp(bytes).metadata()).icc).toBeDefined();
      const { pixels } = await served(bytes, name);
      const diff = difference(reference.pixels, pixels);
      expect({ name, mean: diff.mean.map((channel) => channel < 2.5) }).toEqual({
        name,
        mean: [true, true, true],
      });
    }
  });
});
