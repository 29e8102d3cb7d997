import { describe, it, expect, beforeAll } from '@jest/globals';
import sharp, { type Sharp } from 'sharp';
import { fixture } from '../support/fixtures.js';
import {
  ACCEPTED_INPUT_FORMATS,
  IMAGE_MIME_TYPES,
  isAcceptedInputFormat,
  SNIFF_BYTES,
  sniffImage,
  type ImageFormat,
} from '../../src/imaging/sniff.js';

/** An ISO-BMFF `ftyp` box: size, "ftyp", major brand, minor version 0, compatible brands. */
const ftyp = (major: string, compatible: readonly string[]): Buffer => {
  const body = Buffer.from(`ftyp${major}\0\0\0\0${compatible.join('')}`, 'latin1');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length + 4);
  return Buffer.concat([size, body, Buffer.from('\0\0\0\x08free', 'latin1')]);
};

describe('sniffImage: raster formats', () => {
  const encoded: Partial<Record<string, Buffer>> = {};

  beforeAll(async () => {
    const photo = sharp(fixture('rocket.jpg')).resize(64);
    encoded.webp = await photo.clone().webp().toBuffer();
    encoded.avif = await photo.clone().avif().toBuffer();
    encoded.heifAv1 = await photo.clone().heif({ compression: 'av1' }).toBuffer();
    encoded.gif = await photo.clone().gif().toBuffer();
    encoded.tiff = await photo.clone().tiff().toBuffer();
    encoded.bigtiff = await photo.clone().tiff({ bigtiff: true }).toBuffer();
    encoded.png = await photo.clone().png().toBuffer();
  });

  const expectFormat = (bytes: Buffer | undefined, format: ImageFormat): void => {
    expect(bytes).toBeDefined();
    expect(sniffImage(bytes!)).toEqual({ format, mime: IMAGE_MIME_TYPES[format] });
  };

  it('recognises the real photographs', () => {
    expectFormat(fixture('rocket.jpg'), 'jpeg');
    expectFormat(fixture('hubble_deep_field.jpg'), 'jpeg');
    expectFormat(fixture('logo.png'), 'png');
    expectFormat(fixture('no_time_for_that_tiny.gif'), 'gif');
  });

  it('recognises formats derived with Sharp', () => {
    expectFormat(encoded.webp, 'webp');
    expectFormat(encoded.avif, 'avif');
    expectFormat(encoded.heifAv1, 'avif');
    expectFormat(encoded.gif, 'gif');
    expectFormat(encoded.tiff, 'tiff');
    expectFormat(encoded.bigtiff, 'tiff');
    expectFormat(encoded.png, 'png');
  });

  it('gives the IANA media types', () => {
    expect(sniffImage(encoded.avif!)).toEqual({ format: 'avif', mime: 'image/avif' });
    expect(sniffImage(encoded.webp!)).toEqual({ format: 'webp', mime: 'image/webp' });
    expect(sniffImage(fixture('rocket.jpg'))).toEqual({ format: 'jpeg', mime: 'image/jpeg' });
  });

  it('recognises GIF87a and big-endian TIFF headers', () => {
    const gif87 = Buffer.from(fixture('no_time_for_that_tiny.gif'));
    gif87.write('GIF87a', 0, 'latin1');
    expectFormat(gif87, 'gif');
    expectFormat(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]), 'tiff');
  });

  it('tells AVIF from HEIC and generic HEIF by the ftyp brands', () => {
    expectFormat(ftyp('avif', ['mif1', 'avif', 'miaf']), 'avif');
    expectFormat(ftyp('avis', ['avis', 'msf1', 'miaf']), 'avif');
    expectFormat(ftyp('mif1', ['mif1', 'avif']), 'avif');
    // An iPhone photo: major brand heic.
    expectFormat(ftyp('heic', ['mif1', 'heic']), 'heic');
    expectFormat(ftyp('heix', ['mif1', 'heix']), 'heic');
    expectFormat(ftyp('mif1', ['mif1', 'heic']), 'heic');
    expectFormat(ftyp('msf1', ['msf1', 'hevc']), 'heic');
    expectFormat(ftyp('mif1', ['mif1', 'miaf']), 'heif');
    // An MP4 video is ISO-BMFF too, but not an image.
    expect(sniffImage(ftyp('isom', ['isom', 'iso2', 'mp41']))).toEqual({
      format: undefined,
      reason: 'unknown',
    });
  });

  it('needs only the first SNIFF_BYTES', () => {
    expect(SNIFF_BYTES).toBeLessThanOrEqual(1024);
    expectFormat(encoded.avif!.subarray(0, SNIFF_BYTES), 'avif');
    expectFormat(fixture('rocket.jpg').subarray(0, 3), 'jpeg');
  });
});

describe('sniffImage: not images', () => {
  const reason = (text: string | Buffer): unknown =>
    sniffImage(typeof text === 'string' ? Buffer.from(text) : text);

  it('says empty', () => {
    expect(reason(Buffer.alloc(0))).toEqual({ format: undefined, reason: 'empty' });
  });

  it('says svg, with or without an XML prolog, comment or doctype', () => {
    expect(reason('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')).toMatchObject({
      reason: 'svg',
    });
    expect(
      reason(
        '\ufeff<?xml version="1.0" encoding="utf-8"?>\n<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In -->\n' +
          '<svg version="1.1" xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      ),
    ).toMatchObject({ reason: 'svg' });
    expect(
      reason(
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg>',
      ),
    ).toMatchObject({ reason: 'svg' });
  });

  it('says html, including XHTML and fragments', () => {
    expect(reason('<!DOCTYPE html>\n<html><body><svg></svg></body></html>')).toEqual({
      format: undefined,
      reason: 'html',
    });
    expect(reason('  <HTML lang="en">')).toMatchObject({ reason: 'html' });
    expect(
      reason('<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">'),
    ).toMatchObject({ reason: 'html' });
    expect(reason('<p>hello</p>')).toMatchObject({ reason: 'html' });
    expect(reason('<script>alert(1)</script>')).toMatchObject({ reason: 'html' });
  });

  it('says xml for other XML documents', () => {
    expect(reason('<?xml version="1.0"?><rss version="2.0"><channel/></rss>')).toEqual({
      format: undefined,
      reason: 'xml',
    });
  });

  it('says text for plain text, JSON, UTF-8 and UTF-16', () => {
    expect(reason('hello, world\n')).toEqual({ format: undefined, reason: 'text' });
    expect(reason('{"not":"an image"}')).toMatchObject({ reason: 'text' });
    expect(reason('Ça coûte 10 € — 日本語')).toMatchObject({ reason: 'text' });
    expect(
      reason(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('utf-16 text', 'utf16le')])),
    ).toMatchObject({ reason: 'text' });
    // A multi-byte character cut by the sniffing window is still text.
    const long = Buffer.from(`${'a'.repeat(SNIFF_BYTES - 1)}é and more`);
    expect(long[SNIFF_BYTES - 1]).toBe(0xc3);
    expect(reason(long)).toMatchObject({ reason: 'text' });
  });

  it('names raster formats that are recognised but not read', () => {
    const bmp = Buffer.alloc(54);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(54, 2);
    bmp.writeUInt32LE(54, 10);
    expect(reason(bmp)).toEqual({ format: undefined, reason: 'unsupported-image', detected: 'bmp' });
    expect(reason(Buffer.from([0xff, 0x0a, 0xfa, 0x7f]))).toMatchObject({ detected: 'jxl' });
    expect(reason(Buffer.from('8BPS\0\x01', 'latin1'))).toMatchObject({ detected: 'psd' });
  });

  it('says unknown for binary data', async () => {
    const { gzipSync } = await import('node:zlib');
    expect(reason(gzipSync(Buffer.from('not an image')))).toEqual({ format: undefined, reason: 'unknown' });
    expect(reason(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'))).toMatchObject({
      reason: 'unknown',
    });
    // A truncated signature is not a format.
    expect(reason(Buffer.from([0x89, 0x50, 0x4e]))).toMatchObject({ reason: 'unknown' });
  });
});

describe('accepted input formats', () => {
  it('accepts what Sharp decodes here and refuses HEIC', () => {
    expect([...ACCEPTED_INPUT_FORMATS]).toEqual(['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff']);
    expect(isAcceptedInputFormat('avif')).toBe(true);
    expect(isAcceptedInputFormat('heic')).toBe(false);
    expect(isAcceptedInputFormat('heif')).toBe(false);
  });

  it('matches what Sharp really decodes: every accepted format round-trips', async () => {
    const photo = sharp(fixture('chelsea.png')).resize(32);
    const encoders: Record<string, (s: Sharp) => Sharp> = {
      jpeg: (s) => s.jpeg(),
      png: (s) => s.png(),
      webp: (s) => s.webp(),
      avif: (s) => s.avif(),
      gif: (s) => s.gif(),
      tiff: (s) => s.tiff(),
    };
    for (const format of ACCEPTED_INPUT_FORMATS) {
      const bytes = await encoders[format]!(photo.clone()).toBuffer();
      expect(sniffImage(bytes).format).toBe(format);
      const { info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect(info.width).toBe(32);
    }
  });
});
