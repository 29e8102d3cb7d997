/**
 * The hostile input corpus: files an image service on the internet receives from careless or
 * malicious clients, each made here from the real photographs (cut, corrupted, patched with
 * Sharp's help) or from a few lines of bytes, so that what each one is can be read where it is
 * made. Nothing is downloaded. `writeHostileCorpus` puts them in a directory with a manifest
 * (`npm run corpus` does so from the command line, see `scripts/hostile-corpus.ts`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { htmlFile, pngBomb, pngChunk, svgFile, textFile } from '../support/hostile-files.js';

/** What kind of trouble a file is. */
export type HostileKind =
  'truncated' | 'corrupt' | 'bomb' | 'frames' | 'polyglot' | 'disguised' | 'metadata' | 'empty' | 'text';

/**
 * What a correct server does with it: `refused` (a 4xx with one of `codes`), `accepted` (a valid
 * image: rendering must work too), or `either` (a decoder may reasonably take it or refuse it).
 */
export type Outcome = 'refused' | 'accepted' | 'either';

export interface HostileFile {
  /** Kebab-case name, unique in the corpus. */
  readonly name: string;
  readonly kind: HostileKind;
  /** The name a client gives it (often an image's, whatever it is). */
  readonly filename: string;
  /** The media type a client declares for it (multipart part, direct upload, import server). */
  readonly declared: string;
  readonly bytes: Buffer;
  readonly outcome: Outcome;
  /** Codes a refusal may carry. */
  readonly codes: readonly string[];
  /** Frames in an animation the renderer must refuse to keep (more than MAX_FRAMES). */
  readonly frames?: number;
  readonly description: string;
}

/** Deterministic bytes (mulberry32), so the corpus is the same on every run. */
export function noise(length: number, seed: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const cut = (bytes: Buffer, fraction: number): Buffer =>
  bytes.subarray(0, Math.floor(bytes.length * fraction));

/** `bytes` with `patch` written over it at `at` (a copy). */
function overwrite(bytes: Buffer, at: number, patch: Buffer): Buffer {
  const out = Buffer.from(bytes);
  patch.copy(out, at);
  return out;
}

/** One JPEG marker segment: where it starts, its marker byte, and its payload. */
interface JpegSegment {
  readonly at: number;
  readonly marker: number;
  readonly payloadAt: number;
  readonly length: number;
}

/** The marker segments of a JPEG up to and including its first SOS (start of scan). */
export function jpegSegments(jpeg: Buffer): JpegSegment[] {
  const segments: JpegSegment[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`no JPEG marker at ${at}`);
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    segments.push({ at, marker, payloadAt: at + 4, length: length - 2 });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return segments;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function segment(jpeg: Buffer, predicate: (s: JpegSegment) => boolean, what: string): JpegSegment {
  const found = jpegSegments(jpeg).find(predicate);
  if (!found) throw new Error(`no ${what} in JPEG`);
  return found;
}

/** A JPEG whose frame header (SOF) says `width` × `height`, its data unchanged. */
function jpegWithSize(jpeg: Buffer, width: number, height: number): Buffer {
  const sof = segment(jpeg, (s) => SOF_MARKERS.has(s.marker), 'SOF');
  const size = Buffer.alloc(4);
  size.writeUInt16BE(height, 0);
  size.writeUInt16BE(width, 2);
  return overwrite(jpeg, sof.payloadAt + 1, size);
}

/** Where the entropy-coded data of the first scan starts. */
const scanStart = (jpeg: Buffer): number => {
  const sos = segment(jpeg, (s) => s.marker === 0xda, 'SOS');
  return sos.payloadAt + sos.length;
};

/** A JPEG APP segment (`marker` 0xe0–0xef) with `payload`; at most 65,533 bytes of payload. */
function jpegSegment(marker: number, payload: Buffer): Buffer {
  if (payload.length > 65_533) throw new RangeError(`JPEG segment payload of ${payload.length} bytes`);
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** `segments` inserted right after the SOI marker. */
export const afterSoi = (jpeg: Buffer, ...segments: Buffer[]): Buffer =>
  Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);

/** An ICC profile as JPEG APP2 segments (`ICC_PROFILE\0`, sequence number, count, ≤ 65,519 bytes each). */
export function iccSegments(icc: Buffer): Buffer[] {
  const chunk = 65_519;
  const count = Math.ceil(icc.length / chunk);
  if (count > 255) throw new RangeError('ICC profile too large for JPEG');
  return Array.from({ length: count }, (_, i) =>
    jpegSegment(
      0xe2,
      Buffer.concat([
        Buffer.from('ICC_PROFILE\0', 'latin1'),
        Buffer.from([i + 1, count]),
        icc.subarray(i * chunk, (i + 1) * chunk),
      ]),
    ),
  );
}

/** A little-endian TIFF structure holding one IFD of ASCII/LONG/SHORT entries (EXIF and TIFF files). */
function tiffIfd(entries: readonly { tag: number; type: 2 | 3 | 4; value: number | Buffer }[]): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const ifdSize = 2 + sorted.length * 12 + 4;
  let dataAt = 8 + ifdSize;
  const head = Buffer.alloc(8 + ifdSize);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(sorted.length, 8);
  const data: Buffer[] = [];
  sorted.forEach((entry, i) => {
    const at = 10 + i * 12;
    head.writeUInt16LE(entry.tag, at);
    head.writeUInt16LE(entry.type, at + 2);
    if (Buffer.isBuffer(entry.value)) {
      head.writeUInt32LE(entry.value.length, at + 4);
      if (entry.value.length <= 4) entry.value.copy(head, at + 8);
      else {
        head.writeUInt32LE(dataAt, at + 8);
        data.push(entry.value);
        dataAt += entry.value.length;
      }
    } else {
      head.writeUInt32LE(1, at + 4);
      if (entry.type === 3) head.writeUInt16LE(entry.value, at + 8);
      else head.writeUInt32LE(entry.value, at + 8);
    }
  });
  head.writeUInt32LE(0, 8 + 2 + sorted.length * 12);
  return Buffer.concat([head, ...data]);
}

const ascii = (text: string): Buffer => Buffer.from(`${text}\0`, 'latin1');

/** The bits of LZW codes, least significant first, as GIF packs them. */
class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  write(code: number, width: number): void {
    for (let i = 0; i < width; i += 1) {
      this.current |= ((code >> i) & 1) << this.used;
      this.used += 1;
      if (this.used === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.used = 0;
      }
    }
  }

  end(): Buffer {
    if (this.used > 0) this.bytes.push(this.current);
    return Buffer.from(this.bytes);
  }
}

/**
 * GIF image data for `pixels` palette indices (0–3) without compression: a clear code before every
 * pair of pixels keeps the code width at 3 bits, which every decoder reads.
 */
function gifImageData(pixels: readonly number[]): Buffer {
  const bits = new BitWriter();
  for (let i = 0; i < pixels.length; i += 2) {
    bits.write(4, 3); // clear
    bits.write(pixels[i]!, 3);
    if (i + 1 < pixels.length) bits.write(pixels[i + 1]!, 3);
  }
  bits.write(5, 3); // end of information
  const data = bits.end();
  const blocks: Buffer[] = [Buffer.from([2])]; // minimum code size
  for (let at = 0; at < data.length; at += 255) {
    const block = data.subarray(at, at + 255);
    blocks.push(Buffer.from([block.length]), block);
  }
  blocks.push(Buffer.from([0]));
  return Buffer.concat(blocks);
}

/**
 * A GIF89a: a `width` × `height` logical screen with a 4-colour palette, looping, and `frames`
 * frames each `frameSize` px square at the top left, in colour `i % 4` (100 ms each). A frame
 * descriptor may claim `declaredFrameSize` instead of the size of its data.
 */
export function gif(
  width: number,
  height: number,
  frames: number,
  frameSize = 1,
  declaredFrameSize = frameSize,
): Buffer {
  const head = Buffer.alloc(13);
  head.write('GIF89a', 0, 'latin1');
  head.writeUInt16LE(width, 6);
  head.writeUInt16LE(height, 8);
  head[10] = 0xf1; // global colour table of 4 entries, 8-bit
  const palette = Buffer.from([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const loop = Buffer.concat([
    Buffer.from([0x21, 0xff, 0x0b]),
    Buffer.from('NETSCAPE2.0', 'latin1'),
    Buffer.from([3, 1, 0, 0, 0]),
  ]);
  const body: Buffer[] = [];
  for (let i = 0; i < frames; i += 1) {
    const control = Buffer.from([0x21, 0xf9, 4, 0x04, 10, 0, 0, 0]); // 100 ms, do not dispose
    const descriptor = Buffer.alloc(10);
    descriptor[0] = 0x2c;
    descriptor.writeUInt16LE(declaredFrameSize, 5);
    descriptor.writeUInt16LE(declaredFrameSize, 7);
    body.push(control, descriptor, gifImageData(new Array<number>(frameSize * frameSize).fill(i % 4)));
  }
  return Buffer.concat([head, palette, loop, ...body, Buffer.from([0x3b])]);
}

/** A little-endian TIFF header and IFD declaring `width` × `height` 8-bit grey in one strip of 64 bytes. */
function tiffBomb(width: number, height: number): Buffer {
  const ifd = tiffIfd([
    { tag: 256, type: 4, value: width },
    { tag: 257, type: 4, value: height },
    { tag: 258, type: 3, value: 8 },
    { tag: 259, type: 3, value: 1 },
    { tag: 262, type: 3, value: 1 },
    { tag: 273, type: 4, value: 0 }, // patched below
    { tag: 277, type: 3, value: 1 },
    { tag: 278, type: 4, value: height },
    { tag: 279, type: 4, value: 64 },
  ]);
  const out = Buffer.concat([ifd, Buffer.alloc(64)]);
  // StripOffsets is the 6th entry: its value points at the 64 bytes after the IFD
  out.writeUInt32LE(ifd.length, 10 + 5 * 12 + 8);
  return out;
}

/** A stored (uncompressed) ZIP archive of one file, as appended to polyglots. */
function zipOf(name: string, content: Buffer): Buffer {
  const fileName = Buffer.from(name, 'latin1');
  const crc = crc32(content) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const localSize = local.length + fileName.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(localSize, 16);
  return Buffer.concat([local, fileName, content, central, fileName, end]);
}

/** The chunks of a RIFF/WebP file after its 12-byte header. */
function webpChunks(webp: Buffer): { type: string; at: number; size: number }[] {
  const chunks: { type: string; at: number; size: number }[] = [];
  for (let at = 12; at + 8 <= webp.length;) {
    const type = webp.toString('latin1', at, at + 4);
    const size = webp.readUInt32LE(at + 4);
    chunks.push({ type, at, size });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

/** A RIFF chunk. */
function riffChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A simple (VP8) WebP rewritten as extended (VP8X) with a `width` × `height` canvas and optional ICC chunk. */
function extendedWebp(simple: Buffer, canvas: { width: number; height: number }, icc?: Buffer): Buffer {
  const vp8 = webpChunks(simple).find((c) => c.type === 'VP8 ' || c.type === 'VP8L');
  if (!vp8) throw new Error('not a simple WebP');
  const flags = Buffer.alloc(10);
  flags[0] = icc ? 0x20 : 0;
  flags.writeUIntLE(canvas.width - 1, 4, 3);
  flags.writeUIntLE(canvas.height - 1, 7, 3);
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    riffChunk('VP8X', flags),
    ...(icc ? [riffChunk('ICCP', icc)] : []),
    simple.subarray(vp8.at, vp8.at + 8 + vp8.size + (vp8.size % 2)),
  ]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * An ICC profile grown to about `extraBytes` more by a private tag of noise: the header's size
 * and the tag table are rewritten, every other tag kept, so it stays a readable profile.
 */
function bloatedIcc(icc: Buffer, extraBytes: number): Buffer {
  const count = icc.readUInt32BE(128);
  const tags = Array.from({ length: count }, (_, i) => ({
    sig: icc.subarray(132 + i * 12, 136 + i * 12),
    offset: icc.readUInt32BE(136 + i * 12),
    size: icc.readUInt32BE(140 + i * 12),
  }));
  const blob = Buffer.concat([Buffer.from('data\0\0\0\0\0\0\0\0', 'latin1'), noise(extraBytes, 7)]);
  const all = [
    ...tags.map((t) => ({ ...t, data: icc.subarray(t.offset, t.offset + t.size) })),
    {
      sig: Buffer.from('tsra', 'latin1'),
      offset: 0,
      size: blob.length,
      data: blob,
    },
  ];
  const table = Buffer.alloc(4 + all.length * 12);
  table.writeUInt32BE(all.length, 0);
  const pieces: Buffer[] = [];
  let at = 128 + table.length;
  const placed = new Map<number, number>();
  all.forEach((tag, i) => {
    const shared = tag.offset !== 0 ? placed.get(tag.offset) : undefined;
    const where = shared ?? at;
    if (shared === undefined) {
      if (tag.offset !== 0) placed.set(tag.offset, at);
      const padded = Buffer.concat([tag.data, Buffer.alloc((4 - (tag.data.length % 4)) % 4)]);
      pieces.push(padded);
      at += padded.length;
    }
    tag.sig.copy(table, 4 + i * 12);
    table.writeUInt32BE(where, 8 + i * 12);
    table.writeUInt32BE(tag.size, 12 + i * 12);
  });
  const header = Buffer.from(icc.subarray(0, 128));
  header.writeUInt32BE(at, 0);
  header.fill(0, 84, 100); // profile id: not computed
  return Buffer.concat([header, table, ...pieces]);
}

const REFUSED_AS_NOT_IMAGE = ['UNSUPPORTED_MEDIA_TYPE'] as const;
const REFUSED_AS_BROKEN = ['UNPROCESSABLE_IMAGE'] as const;
const REFUSED_AS_BOMB = ['LIMIT_EXCEEDED'] as const;
/** A corrupt header may be caught by the size check or by the decoder, either way a 4xx. */
const REFUSED_AS_BROKEN_OR_BOMB = ['UNPROCESSABLE_IMAGE', 'LIMIT_EXCEEDED'] as const;

/**
 * Builds the corpus (about 70 files, a few MB) from the fixtures.
 * @param options.maxFrames the server's MAX_FRAMES: the frame-budget files have more (default 500).
 */
export async function buildHostileCorpus(options: { maxFrames?: number } = {}): Promise<HostileFile[]> {
  const maxFrames = options.maxFrames ?? 500;
  const rocket = fixture('rocket.jpg');
  const chelsea = fixture('chelsea.png');
  const photoJpeg = await sharp(rocket).jpeg({ quality: 85 }).toBuffer();
  const photoPng = await sharp(chelsea).png().toBuffer();
  const photoWebp = await sharp(rocket).webp({ quality: 80 }).toBuffer();
  const photoGif = await sharp(chelsea).resize({ width: 200 }).gif().toBuffer();
  const photoAvif = await sharp(chelsea).resize({ width: 200 }).avif({ quality: 50, effort: 2 }).toBuffer();
  const photoTiff = await sharp(chelsea).resize({ width: 200 }).tiff().toBuffer();
  const srgbIcc = (await sharp(chelsea).metadata()).icc;
  if (!srgbIcc) throw new Error('chelsea.png has no ICC profile');
  const scan = scanStart(photoJpeg);

  const files: HostileFile[] = [];
  const add = (file: Omit<HostileFile, 'codes'> & { codes?: readonly string[] }) =>
    files.push({ codes: [], ...file });

  // --- truncated: real photographs cut short, in every accepted format
  add({
    name: 'jpeg-cut-in-header',
    kind: 'truncated',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: photoJpeg.subarray(0, Math.floor(scan / 2)),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A JPEG cut in the middle of its headers, before any image data.',
  });
  for (const fraction of [0.1, 0.6, 0.97]) {
    add({
      name: `jpeg-cut-at-${Math.round(fraction * 100)}-percent-of-scan`,
      kind: 'truncated',
      filename: 'photo.jpg',
      declared: 'image/jpeg',
      bytes: photoJpeg.subarray(0, scan + Math.floor((photoJpeg.length - scan) * fraction)),
      outcome: 'refused',
      codes: REFUSED_AS_BROKEN,
      description: `A JPEG photograph whose scan stops at ${Math.round(fraction * 100)} %.`,
    });
  }
  add({
    name: 'jpeg-without-end-marker',
    kind: 'truncated',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: photoJpeg.subarray(0, photoJpeg.length - 2),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A whole JPEG missing only its final EOI marker.',
  });
  add({
    name: 'png-cut-after-ihdr',
    kind: 'truncated',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: photoPng.subarray(0, 8 + 25),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG signature and header chunk, no image data.',
  });
  add({
    name: 'png-cut-in-half',
    kind: 'truncated',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: cut(photoPng, 0.5),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG photograph cut in the middle of its image data.',
  });
  add({
    name: 'webp-cut-in-half',
    kind: 'truncated',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: cut(photoWebp, 0.5),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A WebP photograph cut in half.',
  });
  add({
    name: 'gif-cut-in-half',
    kind: 'truncated',
    filename: 'photo.gif',
    declared: 'image/gif',
    bytes: cut(photoGif, 0.5),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A GIF cut in half (GIF decoders traditionally show what arrived).',
  });
  add({
    name: 'avif-cut-in-half',
    kind: 'truncated',
    filename: 'photo.avif',
    declared: 'image/avif',
    bytes: cut(photoAvif, 0.5),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'An AVIF cut in half.',
  });
  add({
    name: 'avif-ftyp-only',
    kind: 'truncated',
    filename: 'photo.avif',
    declared: 'image/avif',
    bytes: photoAvif.subarray(0, 32),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'Only the ISO-BMFF file type box of an AVIF.',
  });
  add({
    name: 'tiff-cut-in-half',
    kind: 'truncated',
    filename: 'scan.tiff',
    declared: 'image/tiff',
    bytes: cut(photoTiff, 0.5),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A TIFF cut in half.',
  });

  // --- corrupt: whole files with broken insides
  add({
    name: 'jpeg-noise-in-scan',
    kind: 'corrupt',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: overwrite(photoJpeg, scan + 2000, noise(4000, 1)),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: '4 KB of noise written over the middle of a JPEG scan.',
  });
  const dht = segment(photoJpeg, (s) => s.marker === 0xc4, 'DHT');
  add({
    name: 'jpeg-zeroed-huffman-table',
    kind: 'corrupt',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: overwrite(photoJpeg, dht.payloadAt + 1, Buffer.alloc(16)),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A JPEG whose Huffman table has no codes.',
  });
  add({
    name: 'jpeg-zero-height',
    kind: 'corrupt',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: jpegWithSize(photoJpeg, 640, 0),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A JPEG frame header declaring a height of 0.',
  });
  add({
    name: 'png-bad-header-crc',
    kind: 'corrupt',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: overwrite(photoPng, 8 + 8 + 13, Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG whose IHDR chunk fails its CRC.',
  });
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(320, 0);
  ihdr.writeUInt32BE(200, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const pngSignature = photoPng.subarray(0, 8);
  add({
    name: 'png-garbage-zlib',
    kind: 'corrupt',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.concat([
      pngSignature,
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', noise(5000, 2)),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A well-formed PNG (every CRC right) whose IDAT is noise, not zlib data.',
  });
  add({
    name: 'png-zero-width',
    kind: 'corrupt',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.concat([
      pngSignature,
      pngChunk('IHDR', overwrite(ihdr, 0, Buffer.alloc(4))),
      pngChunk('IDAT', deflateSync(Buffer.alloc(201))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG declaring a width of 0.',
  });
  add({
    name: 'png-without-iend',
    kind: 'corrupt',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: photoPng.subarray(0, photoPng.length - 12),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A whole PNG missing only its IEND chunk.',
  });
  const vp8 = webpChunks(photoWebp).find((c) => c.type === 'VP8 ')!;
  add({
    name: 'webp-noise-in-vp8',
    kind: 'corrupt',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: overwrite(photoWebp, vp8.at + 8 + 10, noise(Math.min(6000, vp8.size - 20), 3)),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A WebP whose VP8 bitstream is overwritten with noise after its frame header.',
  });
  add({
    name: 'webp-riff-size-lie',
    kind: 'corrupt',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: overwrite(photoWebp, 4, Buffer.from([0xf0, 0xff, 0xff, 0xff])),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A WebP whose RIFF header claims 4 GB.',
  });
  add({
    name: 'gif-noise-in-lzw',
    kind: 'corrupt',
    filename: 'photo.gif',
    declared: 'image/gif',
    bytes: overwrite(photoGif, 900, noise(1500, 4)),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A GIF whose LZW data is overwritten with noise.',
  });
  add({
    name: 'gif-without-frames',
    kind: 'corrupt',
    filename: 'photo.gif',
    declared: 'image/gif',
    bytes: gif(64, 64, 0),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A GIF with a screen and a palette but no frame.',
  });
  const mdat = photoAvif.indexOf('mdat', 0, 'latin1');
  add({
    name: 'avif-noise-in-av1',
    kind: 'corrupt',
    filename: 'photo.avif',
    declared: 'image/avif',
    bytes: overwrite(photoAvif, mdat + 40, noise(Math.min(1500, photoAvif.length - mdat - 60), 5)),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'An AVIF whose AV1 payload is overwritten with noise.',
  });

  // --- decompression bombs: huge declared sizes or frame counts in a few KB
  add({
    name: 'png-bomb-50000-square',
    kind: 'bomb',
    filename: 'bomb.png',
    declared: 'image/png',
    bytes: pngBomb(),
    outcome: 'refused',
    codes: REFUSED_AS_BOMB,
    description: 'A valid PNG declaring 50,000 × 50,000 (2.5 GP) in a few KB.',
  });
  add({
    name: 'png-bomb-very-wide',
    kind: 'bomb',
    filename: 'banner.png',
    declared: 'image/png',
    bytes: pngBomb(2_000_000, 100, 1),
    outcome: 'refused',
    codes: REFUSED_AS_BOMB,
    description: 'A PNG 2,000,000 px wide and 100 px tall (200 MP).',
  });
  add({
    name: 'jpeg-bomb-65000-square',
    kind: 'bomb',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: jpegWithSize(photoJpeg, 65_000, 65_000),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'A real JPEG whose frame header is patched to 65,000 × 65,000 (4.2 GP).',
  });
  add({
    name: 'gif-screen-65535-one-pixel',
    kind: 'bomb',
    filename: 'anim.gif',
    declared: 'image/gif',
    bytes: gif(65_535, 65_535, 1),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'A GIF whose logical screen is 65,535 × 65,535 around one 1 px frame.',
  });
  add({
    name: 'gif-bomb-65535-frame',
    kind: 'bomb',
    filename: 'anim.gif',
    declared: 'image/gif',
    bytes: gif(65_535, 65_535, 1, 1, 65_535),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'A GIF frame declaring 65,535 × 65,535 pixels with the data of one.',
  });
  add({
    name: 'gif-bomb-thousands-of-frames',
    kind: 'bomb',
    filename: 'anim.gif',
    declared: 'image/gif',
    bytes: gif(400, 400, 3000),
    outcome: 'refused',
    codes: REFUSED_AS_BOMB,
    description: 'A 400 × 400 GIF declaring 3,000 frames (480 MP decoded) in about 70 KB.',
  });
  add({
    name: 'webp-bomb-canvas',
    kind: 'bomb',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: extendedWebp(photoWebp, { width: 16_000, height: 16_000 }),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'A WebP whose VP8X canvas claims 16,000 × 16,000 around a 640 px frame.',
  });
  const ispe = photoAvif.indexOf('ispe', 0, 'latin1');
  const hugeIspe = Buffer.alloc(8);
  hugeIspe.writeUInt32BE(60_000, 0);
  hugeIspe.writeUInt32BE(60_000, 4);
  add({
    name: 'avif-bomb-ispe',
    kind: 'bomb',
    filename: 'photo.avif',
    declared: 'image/avif',
    bytes: overwrite(photoAvif, ispe + 8, hugeIspe),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'An AVIF whose image spatial extents property says 60,000 × 60,000.',
  });
  add({
    name: 'tiff-bomb-100000-square',
    kind: 'bomb',
    filename: 'scan.tiff',
    declared: 'image/tiff',
    bytes: tiffBomb(100_000, 100_000),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN_OR_BOMB,
    description: 'A TIFF declaring 100,000 × 100,000 grey pixels in one 64-byte strip.',
  });

  // --- frame budget: small animations with more frames than a render keeps
  const manyFrames = maxFrames * 4;
  add({
    name: 'gif-frames-over-budget',
    kind: 'frames',
    filename: 'anim.gif',
    declared: 'image/gif',
    bytes: gif(16, 16, manyFrames, 16),
    outcome: 'accepted',
    frames: manyFrames,
    description: `A 16 × 16 GIF of ${manyFrames} frames: few pixels, more frames than a render keeps.`,
  });
  const strip = Buffer.alloc(8 * 8 * 3 * manyFrames);
  for (let frame = 0; frame < manyFrames; frame += 1) strip.fill(frame % 251, frame * 192, (frame + 1) * 192);
  add({
    name: 'webp-frames-over-budget',
    kind: 'frames',
    filename: 'anim.webp',
    declared: 'image/webp',
    bytes: await sharp(strip, { raw: { width: 8, height: 8 * manyFrames, channels: 3, pageHeight: 8 } })
      .webp({ loop: 0, lossless: true })
      .toBuffer(),
    outcome: 'accepted',
    frames: manyFrames,
    description: `An 8 × 8 animated WebP of ${manyFrames} frames.`,
  });

  // --- polyglots: valid images that are also something else
  const zip = zipOf('payload.php', Buffer.from('<?php system($_GET["c"]); ?>\n', 'latin1'));
  add({
    name: 'jpeg-with-zip-appended',
    kind: 'polyglot',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: Buffer.concat([photoJpeg, zip]),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A JPEG photograph followed by a ZIP archive holding a PHP file (JPEG+ZIP polyglot).',
  });
  const gifJs = gif(10_799, 10, 1, 1);
  // GIF89a/* … */=alert(1)//: the screen width bytes are "/*", the script follows the trailer
  gifJs.write('/*', 6, 'latin1');
  add({
    name: 'gif-javascript-polyglot',
    kind: 'polyglot',
    filename: 'pixel.gif',
    declared: 'image/gif',
    bytes: Buffer.concat([gifJs, Buffer.from('*/=alert(document.domain);//', 'latin1')]),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A GIF that is also a JavaScript program (GIF89a/*…*/=alert(…)).',
  });
  add({
    name: 'png-with-html-appended',
    kind: 'polyglot',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.concat([photoPng, htmlFile()]),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG photograph with an HTML page after its IEND chunk.',
  });
  add({
    name: 'jpeg-with-script-in-comment',
    kind: 'polyglot',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: afterSoi(
      photoJpeg,
      jpegSegment(0xfe, Buffer.from('<script>alert(document.cookie)</script>', 'latin1')),
    ),
    outcome: 'accepted',
    description: 'A JPEG photograph carrying a script tag in a comment segment.',
  });
  add({
    name: 'zip-named-jpg',
    kind: 'disguised',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: zip,
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A ZIP archive named photo.jpg.',
  });

  // --- markup and other files disguised as images
  add({
    name: 'svg-named-png',
    kind: 'disguised',
    filename: 'logo.png',
    declared: 'image/png',
    bytes: svgFile(),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An SVG with a script, named logo.png and sent as image/png.',
  });
  add({
    name: 'svg-without-prolog-named-jpg',
    kind: 'disguised',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)" width="10" height="10"/>',
      'utf8',
    ),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A one-line SVG with an onload handler, as photo.jpg.',
  });
  add({
    name: 'svg-utf16-named-png',
    kind: 'disguised',
    filename: 'logo.png',
    declared: 'image/png',
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(svgFile().toString('utf8'), 'utf16le')]),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An SVG in UTF-16 with a byte order mark, as logo.png.',
  });
  add({
    name: 'svgz-named-gif',
    kind: 'disguised',
    filename: 'logo.gif',
    declared: 'image/gif',
    bytes: gzipSync(svgFile()),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A gzipped SVG (svgz) named logo.gif.',
  });
  add({
    name: 'html-named-gif',
    kind: 'disguised',
    filename: 'pixel.gif',
    declared: 'image/gif',
    bytes: htmlFile(),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An HTML page named pixel.gif and sent as image/gif.',
  });
  add({
    name: 'html-with-bom-named-webp',
    kind: 'disguised',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('  \n<html><body onload=alert(1)>', 'utf8'),
    ]),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An HTML fragment after a UTF-8 byte order mark and blank space, as photo.webp.',
  });
  add({
    name: 'html-comment-first-named-jpg',
    kind: 'disguised',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: Buffer.from('<!-- image --><script>alert(1)</script>', 'utf8'),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An HTML comment and script, as photo.jpg.',
  });
  add({
    name: 'xml-named-png',
    kind: 'disguised',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.from(
      '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
      'utf8',
    ),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An XML document with an external entity (XXE), as photo.png.',
  });
  add({
    name: 'pdf-named-jpg',
    kind: 'disguised',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: Buffer.concat([
      Buffer.from('%PDF-1.4\n%', 'latin1'),
      Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]),
      Buffer.from('\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1'),
    ]),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A minimal PDF named photo.jpg.',
  });
  const heic = Buffer.alloc(64);
  heic.writeUInt32BE(24, 0);
  heic.write('ftypheic', 4, 'latin1');
  heic.write('mif1heic', 16, 'latin1');
  add({
    name: 'heic-brand-named-jpg',
    kind: 'disguised',
    filename: 'IMG_0001.jpg',
    declared: 'image/jpeg',
    bytes: heic,
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'An ISO-BMFF header with HEIC brands, as IMG_0001.jpg.',
  });
  const bmp = Buffer.alloc(58);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(58, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(1, 18);
  bmp.writeInt32LE(1, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  add({
    name: 'bmp-named-png',
    kind: 'disguised',
    filename: 'pixel.png',
    declared: 'image/png',
    bytes: bmp,
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A 1 × 1 BMP (not an accepted format), as pixel.png.',
  });

  // --- giant and broken metadata in otherwise valid photographs
  const exifOf = (ifd: Buffer) => Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), ifd]);
  add({
    name: 'jpeg-giant-exif-strings',
    kind: 'metadata',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: afterSoi(
      photoJpeg,
      jpegSegment(
        0xe1,
        exifOf(
          tiffIfd([
            { tag: 0x010e, type: 2, value: ascii('D'.repeat(40_000)) },
            { tag: 0x010f, type: 2, value: ascii('M'.repeat(10_000)) },
            { tag: 0x013b, type: 2, value: ascii('A'.repeat(10_000)) },
            { tag: 0x8298, type: 2, value: ascii('C'.repeat(5_000)) },
          ]),
        ),
      ),
    ),
    outcome: 'accepted',
    description: 'A JPEG whose EXIF fills a whole 64 KB segment with a few enormous strings.',
  });
  add({
    name: 'png-giant-exif-chunk',
    kind: 'metadata',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.concat([
      photoPng.subarray(0, 33),
      pngChunk(
        'eXIf',
        tiffIfd([
          { tag: 0x010e, type: 2, value: ascii('D'.repeat(3_000_000)) },
          { tag: 0x010f, type: 2, value: ascii('Tessera test camera') },
        ]),
      ),
      photoPng.subarray(33),
    ]),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG photograph with a 3 MB eXIf chunk (one 3-million-character description).',
  });
  add({
    name: 'jpeg-giant-icc-profile',
    kind: 'metadata',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: afterSoi(photoJpeg, ...iccSegments(bloatedIcc(srgbIcc, 2_000_000))),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description:
      'A JPEG photograph with a 2 MB sRGB ICC profile (a private tag of noise) in 31 APP2 segments.',
  });
  add({
    name: 'jpeg-icc-of-noise',
    kind: 'metadata',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: afterSoi(photoJpeg, ...iccSegments(noise(3000, 6))),
    outcome: 'accepted',
    description: 'A JPEG photograph whose ICC profile segment holds 3 KB of noise.',
  });
  const lyingIcc = Buffer.from(srgbIcc.subarray(0, 600));
  lyingIcc.writeUInt32BE(50_000_000, 0);
  add({
    name: 'jpeg-icc-truncated',
    kind: 'metadata',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: afterSoi(photoJpeg, ...iccSegments(lyingIcc)),
    outcome: 'accepted',
    description: 'A JPEG photograph whose ICC profile claims 50 MB and stops after 600 bytes.',
  });
  const iccBomb = Buffer.concat([
    Buffer.from('bomb\0\0', 'latin1'),
    deflateSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 }),
  ]);
  add({
    name: 'png-icc-zlib-bomb',
    kind: 'metadata',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.concat([photoPng.subarray(0, 33), pngChunk('iCCP', iccBomb), photoPng.subarray(33)]),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A PNG photograph whose iCCP chunk inflates to 32 MB of zeros.',
  });
  add({
    name: 'webp-giant-icc-chunk',
    kind: 'metadata',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: extendedWebp(photoWebp, { width: 640, height: 427 }, noise(3_000_000, 8)),
    outcome: 'either',
    codes: REFUSED_AS_BROKEN,
    description: 'A WebP photograph with a 3 MB ICCP chunk of noise.',
  });

  // --- empty, tiny and text files
  const empties: [string, string, string][] = [
    ['empty-named-jpg', 'photo.jpg', 'image/jpeg'],
    ['empty-named-png', 'photo.png', 'image/png'],
  ];
  for (const [name, filename, declared] of empties) {
    add({
      name,
      kind: 'empty',
      filename,
      declared,
      bytes: Buffer.alloc(0),
      outcome: 'refused',
      codes: REFUSED_AS_NOT_IMAGE,
      description: `Zero bytes named ${filename}.`,
    });
  }
  const tiny: [string, string, string, Buffer, readonly string[], string][] = [
    [
      'one-byte-named-jpg',
      'photo.jpg',
      'image/jpeg',
      Buffer.from([0xff]),
      REFUSED_AS_NOT_IMAGE,
      'One 0xFF byte.',
    ],
    [
      'jpeg-soi-only',
      'photo.jpg',
      'image/jpeg',
      Buffer.from([0xff, 0xd8, 0xff]),
      REFUSED_AS_BROKEN,
      'The three bytes that start every JPEG, and nothing else.',
    ],
    [
      'png-signature-only',
      'photo.png',
      'image/png',
      pngSignature,
      REFUSED_AS_BROKEN,
      'The PNG signature alone.',
    ],
    [
      'webp-riff-header-only',
      'photo.webp',
      'image/webp',
      Buffer.from('RIFF\x04\0\0\0WEBP', 'latin1'),
      REFUSED_AS_BROKEN,
      'A RIFF header naming WEBP, with no chunk.',
    ],
    [
      'gif-signature-only',
      'photo.gif',
      'image/gif',
      Buffer.from('GIF89a', 'latin1'),
      REFUSED_AS_BROKEN,
      'The GIF89a signature alone.',
    ],
  ];
  for (const [name, filename, declared, bytes, codes, description] of tiny) {
    add({ name, kind: 'truncated', filename, declared, bytes, outcome: 'refused', codes, description });
  }
  add({
    name: 'text-named-jpg',
    kind: 'text',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: textFile(),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A shopping list named photo.jpg.',
  });
  add({
    name: 'utf16-text-named-gif',
    kind: 'text',
    filename: 'photo.gif',
    declared: 'image/gif',
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Not a GIF, just words.\n', 'utf16le')]),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'UTF-16 text with a byte order mark, named photo.gif.',
  });
  add({
    name: 'json-named-png',
    kind: 'text',
    filename: 'photo.png',
    declared: 'image/png',
    bytes: Buffer.from(JSON.stringify({ image: 'photo.png', width: 640, height: 480 }), 'utf8'),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: 'A JSON document named photo.png.',
  });
  add({
    name: 'noise-named-webp',
    kind: 'corrupt',
    filename: 'photo.webp',
    declared: 'image/webp',
    bytes: noise(20_000, 9),
    outcome: 'refused',
    codes: REFUSED_AS_NOT_IMAGE,
    description: '20 KB of random bytes named photo.webp.',
  });
  add({
    name: 'jpeg-header-then-noise',
    kind: 'corrupt',
    filename: 'photo.jpg',
    declared: 'image/jpeg',
    bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise(20_000, 10)]),
    outcome: 'refused',
    codes: REFUSED_AS_BROKEN,
    description: 'A JPEG signature followed by 20 KB of random bytes.',
  });

  const names = new Set(files.map((f) => f.name));
  if (names.size !== files.length) throw new Error('duplicate names in the hostile corpus');
  return files;
}

/** Writes every file (`{name}--{filename}`) and `manifest.json` into `directory`; returns the manifest. */
export function writeHostileCorpus(
  directory: string,
  files: readonly HostileFile[],
): { name: string; file: string; bytes: number; kind: HostileKind; outcome: Outcome; description: string }[] {
  mkdirSync(directory, { recursive: true });
  const manifest = files.map((f) => {
    const file = `${f.name}--${f.filename}`;
    writeFileSync(join(directory, file), f.bytes);
    return {
      name: f.name,
      file,
      bytes: f.bytes.length,
      kind: f.kind,
      outcome: f.outcome,
      description: f.description,
    };
  });
  writeFileSync(join(directory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
