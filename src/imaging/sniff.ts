/**
 * Sniffing: what an uploaded file is, from its first bytes only (magic numbers, ISO-BMFF brands,
 * markup). Nothing here decodes; `probe.ts` proves that an image actually decodes.
 */
import sharp, { type FormatEnum } from 'sharp';

/**
 * Number of leading bytes `sniffImage` looks at (512). Fewer is fine for a file that is shorter;
 * more is ignored. Enough for every magic number, an ISO-BMFF `ftyp` box with its compatible
 * brands, and an XML prolog plus a comment before an `<svg>` root.
 */
export const SNIFF_BYTES = 512;

/** Raster formats that sniffing recognises (not all of them are accepted: see `ACCEPTED_INPUT_FORMATS`). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heic', 'heif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** IANA media type of each recognised format. */
export const IMAGE_MIME_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** Image formats that are recognised only to name them in a refusal. */
export const UNSUPPORTED_IMAGE_FORMATS = ['bmp', 'ico', 'jxl', 'jp2', 'psd'] as const;
export type UnsupportedImageFormat = (typeof UNSUPPORTED_IMAGE_FORMATS)[number];

/**
 * Why a file is not an image that can be read:
 * `empty` (no bytes), `svg` (vector markup), `html`, `xml` (other XML), `text` (any other text),
 * `unsupported-image` (a raster format Tessera does not read, named in `detected`),
 * `unknown` (binary data with no known signature).
 */
export type NotAnImageReason = 'empty' | 'svg' | 'html' | 'xml' | 'text' | 'unsupported-image' | 'unknown';

/** What `sniffImage` found: a recognised raster format, or the reason it is not one. */
export type SniffResult =
  | { readonly format: ImageFormat; readonly mime: string }
  | {
      readonly format: undefined;
      readonly reason: NotAnImageReason;
      readonly detected?: UnsupportedImageFormat;
    };

/**
 * HEIC (HEIF with HEVC) is never accepted: the prebuilt libvips that Sharp ships reads the HEIF
 * container but has no HEVC decoder (`heifsave` refuses `hevc`, decoding an iPhone HEIC fails with
 * "Support for this compression format has not been built in"). AVIF (HEIF with AV1) is read.
 * A HEIF file whose brands name no codec (`mif1`, `msf1`) is accepted by `probeImage` only when its
 * codec turns out to be AV1.
 */
const CANDIDATE_INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;

/** Sharp's loader for each candidate format (AVIF is read by the `heif` loader). */
const SHARP_LOADER: Readonly<Record<(typeof CANDIDATE_INPUT_FORMATS)[number], keyof FormatEnum>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  avif: 'heif',
  gif: 'gif',
  tiff: 'tiff',
};

/**
 * Formats accepted for upload, in order of preference: those of jpeg, png, webp, avif, gif, tiff
 * whose Sharp loader reads from a buffer in this build. HEIC is not among them (see above).
 */
export const ACCEPTED_INPUT_FORMATS: readonly ImageFormat[] = Object.freeze(
  CANDIDATE_INPUT_FORMATS.filter((format) => sharp.format[SHARP_LOADER[format]]?.input.buffer === true),
);

/** True when uploads of this sniffed format are accepted. */
export const isAcceptedInputFormat = (format: ImageFormat): boolean =>
  ACCEPTED_INPUT_FORMATS.includes(format);

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TIFF_SIGNATURES = [
  [0x49, 0x49, 0x2a, 0x00], // II*\0 little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // MM\0* big-endian
  [0x49, 0x49, 0x2b, 0x00], // BigTIFF little-endian
  [0x4d, 0x4d, 0x00, 0x2b], // BigTIFF big-endian
];
const JXL_CODESTREAM = [0xff, 0x0a];
const JXL_CONTAINER = [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const JP2_CONTAINER = [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const J2K_CODESTREAM = [0xff, 0x4f, 0xff, 0x51];

const hasBytes = (head: Uint8Array, bytes: readonly number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((byte, i) => head[at + i] === byte);

const hasAscii = (head: Uint8Array, text: string, at = 0): boolean =>
  hasBytes(
    head,
    Array.from(text, (c) => c.charCodeAt(0)),
    at,
  );

const ascii = (head: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...head.subarray(from, to));

const image = (format: ImageFormat): SniffResult => ({ format, mime: IMAGE_MIME_TYPES[format] });
const notImage = (reason: NotAnImageReason, detected?: UnsupportedImageFormat): SniffResult =>
  detected === undefined ? { format: undefined, reason } : { format: undefined, reason, detected };

/** The format named by an ISO-BMFF `ftyp` box at the start of `head`, if it is an image one. */
function sniffIsoBmff(head: Uint8Array): SniffResult | undefined {
  if (head.length < 16 || !hasAscii(head, 'ftyp', 4)) return undefined;
  const boxSize = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  const major = ascii(head, 8, 12);
  const compatible: string[] = [];
  const end = Math.min(boxSize >= 16 ? boxSize : 16, head.length);
  for (let at = 16; at + 4 <= end; at += 4) compatible.push(ascii(head, at, at + 4));

  if (AVIF_BRANDS.has(major)) return image('avif');
  if (HEVC_BRANDS.has(major)) return image('heic');
  if (compatible.some((brand) => AVIF_BRANDS.has(brand))) return image('avif');
  if (compatible.some((brand) => HEVC_BRANDS.has(brand))) return image('heic');
  if (HEIF_BRANDS.has(major) || compatible.some((brand) => HEIF_BRANDS.has(brand))) return image('heif');
  return undefined;
}

function sniffUnsupportedImage(head: Uint8Array): UnsupportedImageFormat | undefined {
  // BMP: "BM", file size, then two reserved 16-bit words that are zero.
  if (
    hasAscii(head, 'BM') &&
    head.length >= 14 &&
    head[6] === 0 &&
    head[7] === 0 &&
    head[8] === 0 &&
    head[9] === 0
  ) {
    return 'bmp';
  }
  // ICO: reserved 0, type 1, at least one image.
  if (hasBytes(head, [0x00, 0x00, 0x01, 0x00]) && head.length >= 6 && (head[4]! | head[5]!) !== 0)
    return 'ico';
  if (hasBytes(head, JXL_CODESTREAM) || hasBytes(head, JXL_CONTAINER)) return 'jxl';
  if (hasBytes(head, JP2_CONTAINER) || hasBytes(head, J2K_CODESTREAM)) return 'jp2';
  if (hasAscii(head, '8BPS')) return 'psd';
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `head` as text, or undefined when it is not text: invalid UTF-8/UTF-16 or control characters.
 * Up to 3 trailing bytes may be an incomplete character cut by the sniffing window.
 */
function asText(head: Uint8Array): string | undefined {
  if (hasBytes(head, [0xff, 0xfe]) || hasBytes(head, [0xfe, 0xff])) {
    const decoder = new TextDecoder(head[0] === 0xff ? 'utf-16le' : 'utf-16be');
    const text = decoder.decode(head.subarray(2, 2 + ((head.length - 2) & ~1)));
    return isPlainText(text) ? text : undefined;
  }
  const body = hasBytes(head, [0xef, 0xbb, 0xbf]) ? head.subarray(3) : head;
  let text: string;
  try {
    text = utf8.decode(body.subarray(0, body.length - incompleteUtf8Tail(body)));
  } catch {
    return undefined;
  }
  return isPlainText(text) ? text : undefined;
}

/** Bytes at the end of `bytes` that start a UTF-8 sequence the window cut short (0 to 3). */
function incompleteUtf8Tail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const length = byte >= 0xf0 && byte <= 0xf4 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 && byte < 0xe0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/** No control characters other than tab, line feed, form feed and carriage return. */
const isPlainText = (text: string): boolean => !/[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufffd]/.test(text);

/** Tags that start an HTML document by the WHATWG MIME sniffing rules, each followed by space or `>`. */
const HTML_PREFIXES = [
  '<!doctype html',
  '<html',
  '<head',
  '<script',
  '<iframe',
  '<h1',
  '<div',
  '<font',
  '<table',
  '<a',
  '<style',
  '<title',
  '<b',
  '<body',
  '<br',
  '<p',
  '<!--',
];

function sniffMarkup(text: string): NotAnImageReason {
  const t = text.trimStart().toLowerCase();
  if (!t.startsWith('<')) return 'text';
  const svgAt = t.search(/<svg[\s>/]|<!doctype\s+svg[\s>]/);
  const htmlAt = t.search(/<!doctype\s+html[\s>]|<html[\s>]/);
  if (htmlAt >= 0 && (svgAt < 0 || htmlAt < svgAt)) return 'html';
  if (svgAt >= 0) return 'svg';
  if (HTML_PREFIXES.some((p) => t.startsWith(p) && /[\s>]/.test(t.charAt(p.length)))) return 'html';
  if (t.startsWith('<?xml')) return 'xml';
  return 'text';
}

/**
 * What kind of file starts with `head`.
 *
 * @param head the first bytes of the file; `SNIFF_BYTES` (512) are enough, more are ignored.
 * @returns `{ format, mime }` for JPEG, PNG, WebP, AVIF, GIF (87a/89a), TIFF (incl. BigTIFF),
 *   HEIC and HEIF, or `{ format: undefined, reason }` saying what it is instead (see
 *   `NotAnImageReason`). Never throws. A recognised format is not necessarily accepted: check
 *   `isAcceptedInputFormat`. Sniffing trusts signatures only; `probeImage` proves the decode.
 * @example sniffImage(fileBytes.subarray(0, SNIFF_BYTES)) // { format: 'png', mime: 'image/png' }
 */
export function sniffImage(head: Uint8Array): SniffResult {
  const bytes = head.subarray(0, SNIFF_BYTES);
  if (bytes.length === 0) return notImage('empty');
  if (hasBytes(bytes, JPEG)) return image('jpeg');
  if (hasBytes(bytes, PNG)) return image('png');
  if (hasAscii(bytes, 'GIF87a') || hasAscii(bytes, 'GIF89a')) return image('gif');
  if (hasAscii(bytes, 'RIFF') && hasAscii(bytes, 'WEBP', 8)) return image('webp');
  if (TIFF_SIGNATURES.some((signature) => hasBytes(bytes, signature))) return image('tiff');
  const isoBmff = sniffIsoBmff(bytes);
  if (isoBmff !== undefined) return isoBmff;
  const unsupported = sniffUnsupportedImage(bytes);
  if (unsupported !== undefined) return notImage('unsupported-image', unsupported);
  const text = asText(bytes);
  if (text === undefined) return notImage('unknown');
  return notImage(sniffMarkup(text));
}
