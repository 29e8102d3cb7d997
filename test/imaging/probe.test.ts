import { describe, it, expect, beforeAll } from '@jest/globals';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { DomainError } from '../../src/errors/index.js';
import { parseExif, stripGps } from '../../src/imaging/exif.js';
import { probeImage, ProbeError, type ImageProbe, type ProbeOptions } from '../../src/imaging/probe.js';
import { fixture } from '../support/fixtures.js';

const options: ProbeOptions = { maxInputPixels: 100_000_000, keepGps: false };

/** The ProbeError that `promise` rejects with (fails the test when it resolves or throws another error). */
async function refusal(promise: Promise<ImageProbe>): Promise<ProbeError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProbeError);
  expect(error).toBeInstanceOf(DomainError);
  return error as ProbeError;
}

/** A PNG chunk: length, type, data, CRC-32 of type + data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A valid PNG header declaring `width × height` RGB pixels, with only a few bytes of image data. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Mean absolute difference between two RGB images of the same size. */
async function difference(a: Buffer, b: Buffer, width: number, height: number): Promise<number> {
  const raw = (input: Buffer): Promise<Buffer> =>
    sharp(input).resize({ width, height, fit: 'fill' }).removeAlpha().raw().toBuffer();
  const [x, y] = await Promise.all([raw(a), raw(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

const lqipBytes = (probe: ImageProbe): Buffer => Buffer.from(probe.placeholder.lqip.split(',')[1]!, 'base64');

describe('probeImage on real photographs', () => {
  it('reads rocket.jpg', async () => {
    const probe = await probeImage(fixture('rocket.jpg'), options);
    expect(probe).toMatchObject({
      format: 'jpeg',
      mimeType: 'image/jpeg',
      width: 640,
      height: 427,
      orientation: 1,
      pages: 1,
      animated: false,
      hasAlpha: false,
      colorSpace: 'srgb',
      channels: 3,
      bitDepth: 8,
      density: 72,
      hasIccProfile: true,
      iccProfileName: 'Adobe RGB (1998)',
      exif: null,
    });
    expect(probe.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    expect(probe.dominantColor).toBe(probe.placeholder.dominantColor);
    expect([probe.placeholder.width, probe.placeholder.height]).toEqual([24, 16]);
  });

  it('reads the EXIF of hubble_deep_field.jpg as JSON', async () => {
    const probe = await probeImage(fixture('hubble_deep_field.jpg'), options);
    expect([probe.width, probe.height]).toEqual([1000, 872]);
    expect(probe.iccProfileName).toBe('sRGB IEC61966-2.1');
    expect(probe.exif).toEqual({
      Image: {
        Orientation: 1,
        XResolution: 300,
        YResolution: 300,
        ResolutionUnit: 2,
        Software: 'Adobe Photoshop CS5 Macintosh',
        // Written by Photoshop in ISO form, kept as it is (exif-reader alone would give null).
        DateTime: '2012-09-17T15:53:45-04:00',
      },
      Photo: { ExifVersion: '0220', ColorSpace: 1, PixelXDimension: 1000, PixelYDimension: 872 },
    });
    expect(JSON.parse(JSON.stringify(probe.exif))).toEqual(probe.exif);
  });

  it('reads the alpha channel of logo.png', async () => {
    const probe = await probeImage(fixture('logo.png'), options);
    expect(probe).toMatchObject({
      format: 'png',
      mimeType: 'image/png',
      width: 500,
      height: 500,
      hasAlpha: true,
      channels: 4,
    });
    expect(probe.hasIccProfile).toBe(false);
    expect(probe.iccProfileName).toBeUndefined();
  });

  it('reads the 24 frames of no_time_for_that_tiny.gif', async () => {
    const probe = await probeImage(fixture('no_time_for_that_tiny.gif'), options);
    expect(probe).toMatchObject({
      format: 'gif',
      mimeType: 'image/gif',
      width: 14,
      height: 25,
      pages: 24,
      animated: true,
    });
    // The placeholder shows one frame, not the strip of 24.
    expect(thumbHashToApproximateAspectRatio(Buffer.from(probe.placeholder.thumbhash, 'base64'))).toBeCloseTo(
      14 / 25,
      1,
    );
    expect([probe.placeholder.width, probe.placeholder.height]).toEqual([13, 24]);
  });

  it('counts frames × pixels against the limit', async () => {
    const pixels = 14 * 25 * 24;
    await expect(
      probeImage(fixture('no_time_for_that_tiny.gif'), { ...options, maxInputPixels: pixels }),
    ).resolves.toMatchObject({ pages: 24 });
    const error = await refusal(
      probeImage(fixture('no_time_for_that_tiny.gif'), { ...options, maxInputPixels: pixels - 1 }),
    );
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.details).toMatchObject({ width: 14, height: 25, frames: 24, pixels });
  });

  it('refuses a photo over the pixel limit', async () => {
    const error = await refusal(
      probeImage(fixture('rocket.jpg'), { ...options, maxInputPixels: 640 * 427 - 1 }),
    );
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/640×427/);
  });
});

describe('probeImage on derived images', () => {
  let rotated: Buffer;
  let withGps: Buffer;

  beforeAll(async () => {
    // The rocket photo stored sideways with EXIF orientation 6 ("rotate 90° clockwise to display").
    rotated = await sharp(fixture('rocket.jpg')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    withGps = await sharp(fixture('rocket.jpg'))
      .withExif({
        IFD0: { Make: 'Tessera', Model: 'Probe Camera' },
        IFD2: { DateTimeOriginal: '2021:05:06 07:08:09', OffsetTimeOriginal: '+02:00' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '43/1 10/1 3000/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '4/1 50/1 0/1',
        },
      })
      .jpeg()
      .toBuffer();
  });

  it('reports orientation 6 with display width and height swapped', async () => {
    const probe = await probeImage(rotated, options);
    expect(probe).toMatchObject({ orientation: 6, width: 427, height: 640 });
    expect(probe.placeholder.height).toBeGreaterThan(probe.placeholder.width);
  });

  it('makes the placeholder of the displayed (rotated) image', async () => {
    const probe = await probeImage(rotated, options);
    const { width, height } = probe.placeholder;
    const upright = await sharp(fixture('rocket.jpg')).rotate(90).toBuffer();
    const sideways = fixture('rocket.jpg');
    const lqip = lqipBytes(probe);
    expect(await difference(lqip, upright, width, height)).toBeLessThan(12);
    expect(await difference(lqip, sideways, width, height)).toBeGreaterThan(
      2 * (await difference(lqip, upright, width, height)),
    );
  });

  it('reports a CMYK JPEG as cmyk and still makes an sRGB placeholder', async () => {
    const cmyk = await sharp(fixture('rocket.jpg')).toColourspace('cmyk').jpeg().toBuffer();
    const probe = await probeImage(cmyk, options);
    expect(probe).toMatchObject({
      format: 'jpeg',
      colorSpace: 'cmyk',
      channels: 4,
      width: 640,
      height: 427,
      hasAlpha: false,
    });
    expect(await difference(lqipBytes(probe), fixture('rocket.jpg'), 24, 16)).toBeLessThan(16);
  });

  it('reports 16-bit depth', async () => {
    const deep = await sharp(fixture('astronaut.png')).toColourspace('rgb16').png().toBuffer();
    expect(await probeImage(deep, options)).toMatchObject({
      format: 'png',
      bitDepth: 16,
      colorSpace: 'rgb16',
    });
  });

  it('reads WebP, AVIF and TIFF', async () => {
    const photo = sharp(fixture('chelsea.png'));
    const cases = [
      [await photo.clone().webp().toBuffer(), 'webp', 'image/webp'],
      [await photo.clone().avif().toBuffer(), 'avif', 'image/avif'],
      [await photo.clone().heif({ compression: 'av1' }).toBuffer(), 'avif', 'image/avif'],
      [await photo.clone().tiff().toBuffer(), 'tiff', 'image/tiff'],
    ] as const;
    for (const [bytes, format, mimeType] of cases) {
      expect(await probeImage(bytes, options)).toMatchObject({ format, mimeType, width: 451, height: 300 });
    }
  });

  it('reads an animated WebP', async () => {
    const webp = await sharp(fixture('no_time_for_that_tiny.gif'), { pages: -1 }).webp().toBuffer();
    expect(await probeImage(webp, options)).toMatchObject({
      format: 'webp',
      pages: 24,
      animated: true,
      width: 14,
      height: 25,
    });
  });

  it('keeps GPS only when asked', async () => {
    const without = await probeImage(withGps, options);
    expect(without.exif).toMatchObject({
      Image: { Make: 'Tessera', Model: 'Probe Camera' },
      Photo: { DateTimeOriginal: '2021-05-06T07:08:09+02:00', OffsetTimeOriginal: '+02:00' },
    });
    expect(without.exif).not.toHaveProperty('GPSInfo');
    expect(JSON.stringify(without.exif)).not.toMatch(/GPS/);

    const kept = await probeImage(withGps, { ...options, keepGps: true });
    expect(kept.exif?.GPSInfo).toEqual({
      GPSLatitudeRef: 'N',
      GPSLatitude: [43, 10, 30],
      GPSLongitudeRef: 'W',
      GPSLongitude: [4, 50, 0],
    });
  });
});

describe('probeImage refusals', () => {
  it('refuses the truncated JPEG fixture as unprocessable', async () => {
    const error = await refusal(probeImage(fixture('truncated.jpg'), options));
    expect(error.code).toBe('UNPROCESSABLE_IMAGE');
    expect(error.status).toBe(422);
  });

  it('refuses a JPEG cut short in its pixel data even though its header reads', async () => {
    const whole = fixture('rocket.jpg');
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    expect((await sharp(cut).metadata()).width).toBe(640);
    const error = await refusal(probeImage(cut, options));
    expect(error.code).toBe('UNPROCESSABLE_IMAGE');
    expect(error.details).toMatchObject({ reason: 'undecodable', format: 'jpeg' });
  });

  it('refuses a PNG cut short', async () => {
    const whole = fixture('chelsea.png');
    const error = await refusal(probeImage(whole.subarray(0, Math.floor(whole.length / 2)), options));
    expect(error.code).toBe('UNPROCESSABLE_IMAGE');
  });

  it('refuses a JPEG signature followed by garbage', async () => {
    const fake = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('this is not a JPEG at all '.repeat(20)),
    ]);
    expect((await refusal(probeImage(fake, options))).code).toBe('UNPROCESSABLE_IMAGE');
  });

  it('refuses an empty file as unsupported media', async () => {
    const error = await refusal(probeImage(Buffer.alloc(0), options));
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.status).toBe(415);
    expect(error.details).toMatchObject({ reason: 'empty' });
  });

  it.each([
    [
      'svg',
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>',
    ],
    ['html', '<!DOCTYPE html><html><body><img src="x.jpg"></body></html>'],
    ['text', 'just some text'],
  ])('refuses %s as unsupported media', async (reason, text) => {
    const error = await refusal(probeImage(Buffer.from(text), options));
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.details).toMatchObject({
      reason,
      acceptedFormats: ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'],
    });
    expect(error.message).toMatch(/JPEG, PNG, WebP, AVIF, GIF, TIFF/);
  });

  it('refuses HEIC (HEVC), which this Sharp cannot decode', async () => {
    const ftyp = Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1');
    const error = await refusal(probeImage(Buffer.concat([ftyp, Buffer.alloc(64)]), options));
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.details).toMatchObject({ format: 'heic' });
    expect(error.message).toMatch(/HEIC/);
  });

  it('refuses a BMP naming the format', async () => {
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    const error = await refusal(probeImage(bmp, options));
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.message).toMatch(/^BMP images are not supported/);
  });

  it('refuses a 50,000×50,000 PNG bomb from its header, quickly and without decoding it', async () => {
    const bomb = pngDeclaring(50_000, 50_000);
    expect(bomb.length).toBeLessThan(200);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const error = await refusal(probeImage(bomb, options));
    const elapsedMs = performance.now() - started;
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.details).toMatchObject({
      width: 50_000,
      height: 50_000,
      pixels: 2_500_000_000,
      maxInputPixels: 100_000_000,
    });
    expect(elapsedMs).toBeLessThan(1000);
    // Decoding would need 7.5 GB; a header read needs next to nothing.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a PNG whose declared size is within the limit but whose data is missing', async () => {
    const error = await refusal(probeImage(pngDeclaring(2000, 2000), options));
    expect(error.code).toBe('UNPROCESSABLE_IMAGE');
  });

  it('refuses a maxInputPixels that is not a positive integer', async () => {
    await expect(probeImage(fixture('rocket.jpg'), { ...options, maxInputPixels: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(probeImage(fixture('rocket.jpg'), { ...options, maxInputPixels: 1.5 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('parseExif', () => {
  it('drops maker notes, big blobs and long arrays, caps strings, decodes user comments', async () => {
    const jpeg = await sharp(fixture('rocket.jpg'))
      .withExif({
        IFD0: { Artist: 'x'.repeat(5000), ImageDescription: 'A rocket' },
        IFD2: { UserComment: 'launch day', MakerNote: 'vendor-secret-blob' },
      })
      .jpeg()
      .toBuffer();
    const { exif } = await sharp(jpeg).metadata();
    const parsed = parseExif(exif!);
    expect(parsed?.Image?.Artist).toHaveLength(1024);
    expect(parsed?.Image?.ImageDescription).toBe('A rocket');
    expect(parsed?.Photo?.UserComment).toBe('launch day');
    expect(parsed?.Photo).not.toHaveProperty('MakerNote');
    expect(parsed?.Image).not.toHaveProperty('ExifTag');
    expect(JSON.stringify(parsed).length).toBeLessThan(2000);
  });

  it('answers null for malformed EXIF instead of throwing', () => {
    expect(parseExif(Buffer.from('Exif\0\0garbage'))).toBeNull();
    expect(parseExif(Buffer.alloc(0))).toBeNull();
  });

  it('strips GPS', () => {
    expect(stripGps({ Image: { Make: 'x' }, GPSInfo: { GPSLatitude: [1, 2, 3] } })).toEqual({
      Image: { Make: 'x' },
    });
    expect(stripGps({ GPSInfo: { GPSLatitude: [1, 2, 3] } })).toBeNull();
    expect(stripGps(null)).toBeNull();
  });
});
