/**
 * Bad inputs for ingestion tests, each made in the open from a real photograph or from a few
 * lines of bytes, so what they are is visible where they are made.
 */
import { crc32, deflateSync } from 'node:zlib';
import { fixture } from './fixtures.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, and the CRC-32 of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * A decompression bomb: a well-formed PNG (every CRC correct) declaring `width` × `height`
 * 8-bit greyscale pixels (default 50,000 × 50,000 = 2.5 gigapixels) in a few KB. Its IDAT holds
 * the deflated zero rows of the first `rows` lines only (default 100): a decoder that trusted the
 * header would set out to allocate gigabytes before noticing.
 */
export function pngBomb(width = 50_000, height = 50_000, rows = 100): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const scanlines = Buffer.alloc((width + 1) * rows); // filter byte 0 + zero samples, per row
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(scanlines, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first `fraction` (default 60 %) of a real photograph: a JPEG whose data stops mid-scan. */
export function truncatedJpeg(fraction = 0.6): Buffer {
  const photo = fixture('rocket.jpg');
  return photo.subarray(0, Math.floor(photo.length * fraction));
}

/** Plain text, the kind of file that gets renamed `photo.jpg`. */
export const textFile = (): Buffer =>
  Buffer.from('Shopping list\n- milk\n- eggs\n- a real photograph, not this text file\n', 'utf8');

/** An SVG image (vector, may carry script): refused, only raster images are accepted. */
export const svgFile = (): Buffer =>
  Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">' +
      '<script>alert(document.domain)</script><rect width="64" height="64" fill="#c00"/></svg>\n',
    'utf8',
  );

/** An HTML page. */
export const htmlFile = (): Buffer =>
  Buffer.from(
    '<!DOCTYPE html>\n<html><head><title>Not an image</title></head><body><img src=x onerror=alert(1)></body></html>\n',
    'utf8',
  );

/** Zero bytes. */
export const emptyFile = (): Buffer => Buffer.alloc(0);
