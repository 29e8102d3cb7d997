/**
 * EXIF as bounded, JSON-safe data: parsed with `exif-reader`, then cleaned so that it can be stored
 * in a jsonb column and shown through GraphQL. Groups keep exif-reader's names (`Image` = IFD0,
 * `Photo` = Exif IFD, `Iop` = interoperability IFD, `GPSInfo` = GPS IFD); the thumbnail IFD,
 * maker notes, pointer tags, unknown tags and large binary blobs are dropped.
 */
import exifReader from 'exif-reader';

/** A JSON-safe EXIF value. */
export type ExifValue = string | number | readonly number[] | readonly string[];

/** Cleaned EXIF: group name → tag name → value. */
export type ExifData = Record<string, Record<string, ExifValue>>;

/** Bounds on what is kept from EXIF, so that a crafted file cannot bloat a row. */
export const EXIF_LIMITS = {
  /** Longer strings are cut to this many characters. */
  maxStringLength: 1024,
  /** Arrays with more items are dropped (strip offsets, XMP packets stored as bytes, ...). */
  maxArrayLength: 64,
  /** Binary values that are not text are kept as lowercase hex up to this many bytes, else dropped. */
  maxBinaryBytes: 64,
  /** Tags kept per group; the rest are dropped. */
  maxTagsPerGroup: 256,
} as const;

/** The GPS group, removed unless the caller keeps location data. */
export const GPS_GROUP = 'GPSInfo';

const GROUPS = ['Image', 'Photo', 'Iop', GPS_GROUP] as const;

/** Tags never kept: offsets into the EXIF block, vendor blobs, embedded profiles and packets. */
const DROPPED_TAGS = new Set([
  'ExifTag',
  'GPSTag',
  'InteroperabilityTag',
  'MakerNote',
  'InterColorProfile',
  'JPEGTables',
  'XMLPacket',
  'IPTCNAA',
  'ImageResources',
  'PrintImageMatching',
  'DNGPrivateData',
  'StripOffsets',
  'StripByteCounts',
  'TileOffsets',
  'TileByteCounts',
  'JPEGInterchangeFormat',
  'JPEGInterchangeFormatLength',
]);

/** UNDEFINED-typed text tags that start with an 8-byte character-code header. */
const CHARSET_TEXT_TAGS = new Set(['UserComment', 'GPSProcessingMethod', 'GPSAreaInformation']);

/** Date-time tags in EXIF's "YYYY:MM:DD HH:MM:SS" form, with the offset tag that qualifies each. */
const DATE_TAGS: Readonly<Record<string, { group: 'Image' | 'Photo'; tag: number; offsetTag: string }>> = {
  DateTime: { group: 'Image', tag: 0x0132, offsetTag: 'OffsetTime' },
  DateTimeOriginal: { group: 'Photo', tag: 0x9003, offsetTag: 'OffsetTimeOriginal' },
  DateTimeDigitized: { group: 'Photo', tag: 0x9004, offsetTag: 'OffsetTimeDigitized' },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

const capString = (text: string): string | undefined => {
  const trimmed = text.replace(/\u0000+$/, '').trim();
  if (trimmed === '') return undefined;
  return trimmed.length > EXIF_LIMITS.maxStringLength
    ? trimmed.slice(0, EXIF_LIMITS.maxStringLength)
    : trimmed;
};

/** Bytes as text when they are valid UTF-8 without control characters (trailing NULs allowed). */
const bytesAsText = (bytes: Uint8Array): string | undefined => {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(0, end));
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : capString(text);
};

/** EXIF 2.3 §4.6.5 character code header: ASCII, UNICODE (UCS-2, file byte order), JIS, or undefined. */
const charsetText = (bytes: Uint8Array, bigEndian: boolean): string | undefined => {
  if (bytes.length < 8) return bytesAsText(bytes);
  const header = String.fromCharCode(...bytes.subarray(0, 8)).replace(/\0+$/, '');
  const body = bytes.subarray(8);
  if (header === 'UNICODE') {
    const even = body.subarray(0, body.length & ~1);
    return capString(new TextDecoder(bigEndian ? 'utf-16be' : 'utf-16le').decode(even));
  }
  if (header === 'ASCII' || header === '') return bytesAsText(body);
  return undefined;
};

const toHex = (bytes: Uint8Array): string | undefined =>
  bytes.length > 0 && bytes.length <= EXIF_LIMITS.maxBinaryBytes
    ? Buffer.from(bytes).toString('hex')
    : undefined;

/** One exif-reader value as JSON-safe data, or undefined to drop it. */
function cleanValue(tag: string, value: unknown, bigEndian: boolean): ExifValue | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return capString(value);
  if (value instanceof Uint8Array) {
    if (CHARSET_TEXT_TAGS.has(tag)) return charsetText(value, bigEndian);
    return bytesAsText(value) ?? toHex(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > EXIF_LIMITS.maxArrayLength) return undefined;
    if (!value.every((item): item is number => typeof item === 'number' && Number.isFinite(item)))
      return undefined;
    // Windows XP tags (XPTitle, XPComment, ...) are UCS-2 little-endian text stored as bytes.
    if (tag.startsWith('XP')) {
      return capString(
        new TextDecoder('utf-16le').decode(Uint8Array.from(value.slice(0, value.length & ~1))),
      );
    }
    return value;
  }
  return undefined;
}

/** Reads an ASCII value of `tagId` from the IFD at `ifdOffset` (relative to the TIFF header). */
function readAsciiTag(
  raw: Buffer,
  tiffStart: number,
  ifdOffset: number,
  tagId: number,
  bigEndian: boolean,
): string | undefined {
  const u16 = (at: number): number => (bigEndian ? raw.readUInt16BE(at) : raw.readUInt16LE(at));
  const u32 = (at: number): number => (bigEndian ? raw.readUInt32BE(at) : raw.readUInt32LE(at));
  const ifd = tiffStart + ifdOffset;
  if (ifd + 2 > raw.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > raw.length) return undefined;
    if (u16(entry) !== tagId) continue;
    if (u16(entry + 2) !== 2) return undefined;
    const length = u32(entry + 4);
    const start = length <= 4 ? entry + 8 : tiffStart + u32(entry + 8);
    if (length > 256 || start + length > raw.length) return undefined;
    return raw
      .toString('latin1', start, start + length)
      .replace(/\0+$/, '')
      .trim();
  }
  return undefined;
}

/**
 * An EXIF date-time as ISO 8601. EXIF's "YYYY:MM:DD HH:MM:SS" becomes "YYYY-MM-DDTHH:MM:SS",
 * with the offset from the matching OffsetTime* tag when present and local time (no zone) when not.
 * Values already in ISO form (some editors write them) are kept. Blank or zero dates are dropped.
 */
function isoDate(text: string | undefined, offset: ExifValue | undefined): string | undefined {
  if (text === undefined) return undefined;
  const exif = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (exif !== null) {
    const [, y, mo, d, h, mi, s] = exif;
    if (y === '0000' || mo === '00' || d === '00') return undefined;
    const zone = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : '';
    return `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`;
  }
  if (
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(text) &&
    !Number.isNaN(Date.parse(text))
  ) {
    return text;
  }
  return undefined;
}

/**
 * Parses a raw EXIF block (as Sharp's `metadata().exif` gives it: "Exif\0\0" then a TIFF header,
 * or a bare TIFF header) into bounded JSON-safe data.
 *
 * Numbers stay numbers (rationals as their quotient; 0/0 dropped), dates become ISO 8601 strings
 * (see above), text is trimmed and cut to `EXIF_LIMITS.maxStringLength`, small binary values become
 * text when they are text and lowercase hex otherwise, and everything else is dropped (see
 * `EXIF_LIMITS`, maker notes, pointers, thumbnail IFD, unknown numeric tags).
 *
 * @param raw the EXIF block.
 * @param options.keepGps keep the `GPSInfo` group (default false: location is private data).
 * @returns the groups that have at least one tag, or null when the block is malformed or empty.
 *   Never throws for malformed EXIF.
 */
export function parseExif(raw: Buffer, options: { keepGps?: boolean } = {}): ExifData | null {
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(raw);
  } catch {
    return null;
  }
  const bigEndian = parsed.bigEndian;
  const tiffStart = raw.toString('latin1', 0, 5) === 'Exif\0' ? 6 : 0;
  const result: ExifData = {};
  for (const group of GROUPS) {
    if (group === GPS_GROUP && options.keepGps !== true) continue;
    const tags: unknown = parsed[group];
    if (tags === null || typeof tags !== 'object') continue;
    const cleaned: Record<string, ExifValue> = {};
    let kept = 0;
    for (const [tag, value] of Object.entries(tags)) {
      if (kept >= EXIF_LIMITS.maxTagsPerGroup) break;
      if (DROPPED_TAGS.has(tag) || /^\d+$/.test(tag) || tag in DATE_TAGS) continue;
      const clean = cleanValue(tag, value, bigEndian);
      if (clean === undefined) continue;
      cleaned[tag] = clean;
      kept++;
    }
    if (Object.keys(cleaned).length > 0) result[group] = cleaned;
  }
  addDates(raw, tiffStart, bigEndian, parsed, result);
  return Object.keys(result).length > 0 ? result : null;
}

/** Date tags, read from the raw block: exif-reader turns them into Dates that pretend to be UTC. */
function addDates(
  raw: Buffer,
  tiffStart: number,
  bigEndian: boolean,
  parsed: exifReader.Exif,
  result: ExifData,
): void {
  let ifd0: number;
  try {
    ifd0 = bigEndian ? raw.readUInt32BE(tiffStart + 4) : raw.readUInt32LE(tiffStart + 4);
  } catch {
    return;
  }
  const exifIfd = parsed.Image?.ExifTag;
  for (const [name, { group, tag, offsetTag }] of Object.entries(DATE_TAGS)) {
    const ifd = group === 'Image' ? ifd0 : exifIfd;
    if (typeof ifd !== 'number' || !Number.isInteger(ifd) || ifd <= 0) continue;
    let text: string | undefined;
    try {
      text = readAsciiTag(raw, tiffStart, ifd, tag, bigEndian);
    } catch {
      continue;
    }
    const iso = isoDate(text, result.Photo?.[offsetTag]);
    if (iso === undefined) continue;
    result[group] = { ...result[group], [name]: iso };
  }
}

/**
 * A copy of `exif` without location: the `GPSInfo` group removed.
 * @param exif cleaned EXIF from `parseExif`, or null.
 * @returns the remaining groups, or null when nothing remains.
 */
export function stripGps(exif: ExifData | null): ExifData | null {
  if (exif === null) return null;
  const rest = Object.fromEntries(Object.entries(exif).filter(([group]) => group !== GPS_GROUP));
  return Object.keys(rest).length > 0 ? rest : null;
}
