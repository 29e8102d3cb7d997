/**
 * Probing an uploaded file: what it is (sniffed and cross-checked with Sharp), its metadata, and
 * proof that it decodes, with placeholders computed from that same single, reduced-cost decode.
 *
 * Order: sniff the signature → refuse what is not an accepted image → read the header (Sharp
 * metadata, no pixel data) → refuse decompression bombs from the declared size → decode once into a
 * ≤ 100 px thumbnail (shrink-on-load where the format allows), failing on corrupt or truncated
 * data → placeholders and dominant colour from that thumbnail.
 */
import sharp, { type FailOnOptions, type Metadata, type OutputInfo } from 'sharp';
import { DomainError, ErrorCode, type DomainErrorOptions } from '../errors/index.js';
import { parseExif, type ExifData } from './exif.js';
import { computePlaceholder, fitWithin, type Placeholder } from './placeholder.js';
import { iccProfileName } from './probe-icc.js';
import {
  ACCEPTED_INPUT_FORMATS,
  IMAGE_MIME_TYPES,
  isAcceptedInputFormat,
  SNIFF_BYTES,
  sniffImage,
  type ImageFormat,
  type NotAnImageReason,
  type UnsupportedImageFormat,
} from './sniff.js';

/** The codes a probe refuses with. */
export type ProbeErrorCode =
  | typeof ErrorCode.UnsupportedMediaType
  | typeof ErrorCode.UnprocessableImage
  | typeof ErrorCode.LimitExceeded;

/**
 * A file refused by `probeImage`. Its message is public; `details` says why in machine terms
 * (`reason`, and for limits `width`, `height`, `frames`, `pixels`, `maxInputPixels`).
 * - `UNSUPPORTED_MEDIA_TYPE`: not an image, SVG, HTML, text, unknown or unsupported format (HEIC);
 * - `UNPROCESSABLE_IMAGE`: corrupt, truncated, undecodable, or content not matching its signature;
 * - `LIMIT_EXCEEDED`: more pixels (width × height × frames) than allowed.
 */
export class ProbeError extends DomainError {
  declare readonly code: ProbeErrorCode;

  constructor(code: ProbeErrorCode, publicMessage: string, options: DomainErrorOptions = {}) {
    super(code, publicMessage, options);
    this.name = 'ProbeError';
  }
}

/** Formats an accepted probe reports (HEIC and HEIF-with-HEVC are refused). */
export type ProbedFormat = Exclude<ImageFormat, 'heic' | 'heif'>;

/** What `probeImage` learnt about an image. */
export interface ImageProbe {
  /** Sniffed from the signature and confirmed by Sharp's loader; AVIF for any HEIF with AV1. */
  readonly format: ProbedFormat;
  /** IANA media type of `format`, e.g. `image/jpeg`. */
  readonly mimeType: string;
  /** Display width, px, after EXIF orientation (swapped with height for orientations 5–8); one frame. */
  readonly width: number;
  /** Display height, px, after EXIF orientation; one frame (page) of an animation. */
  readonly height: number;
  /** EXIF orientation, 1–8 (1 when absent or invalid). */
  readonly orientation: number;
  /** Frames (animation) or pages (multi-page TIFF/HEIF); 1 for a still image. */
  readonly pages: number;
  /** True for a GIF or WebP with more than one frame. */
  readonly animated: boolean;
  /** True when the image has an alpha channel. */
  readonly hasAlpha: boolean;
  /** Sharp's colour space interpretation: `srgb`, `cmyk`, `b-w`, `rgb16`, `grey16`, ... */
  readonly colorSpace: string;
  /** Number of bands, alpha included (3 for RGB, 4 for RGBA or CMYK, 1 for grey). */
  readonly channels: number;
  /** Bits per sample (8, 16, ...), when known. */
  readonly bitDepth?: number;
  /** Pixels per inch, when the file says. */
  readonly density?: number;
  /** True when an ICC colour profile is embedded. */
  readonly hasIccProfile: boolean;
  /** The embedded profile's description, e.g. "sRGB IEC61966-2.1". */
  readonly iccProfileName?: string;
  /** EXIF as bounded JSON (see `parseExif`); GPS only when `keepGps`; null when there is none. */
  readonly exif: ExifData | null;
  /** Most frequent colour, `#rrggbb` (same as `placeholder.dominantColor`). */
  readonly dominantColor: string;
  /** BlurHash, ThumbHash, LQIP of the first frame, as displayed. */
  readonly placeholder: Placeholder;
}

/** Limits and privacy choices for `probeImage`. */
export interface ProbeOptions {
  /** Most pixels allowed, width × height × frames (a positive integer, e.g. 268_402_689 = 16383²). */
  readonly maxInputPixels: number;
  /** Keep EXIF GPS tags (location) in `exif`. */
  readonly keepGps: boolean;
}

/**
 * How strict decoding is: `error` refuses corrupt and truncated data but tolerates what libjpeg and
 * libpng only warn about (extraneous bytes, bad CRCs in ancillary chunks), which real cameras and
 * editors produce.
 */
export const PROBE_FAIL_ON = 'error' satisfies FailOnOptions;

const FORMAT_NAMES: Readonly<Record<ImageFormat | UnsupportedImageFormat, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  avif: 'AVIF',
  gif: 'GIF',
  tiff: 'TIFF',
  heic: 'HEIC',
  heif: 'HEIF',
  bmp: 'BMP',
  ico: 'ICO',
  jxl: 'JPEG XL',
  jp2: 'JPEG 2000',
  psd: 'Photoshop (PSD)',
};

const acceptedList = (): string => ACCEPTED_INPUT_FORMATS.map((f) => FORMAT_NAMES[f]).join(', ');

const NOT_AN_IMAGE: Readonly<Record<Exclude<NotAnImageReason, 'unsupported-image'>, string>> = {
  empty: 'The file is empty.',
  svg: 'SVG is not accepted: upload a raster image',
  html: 'The file is an HTML document, not an image',
  xml: 'The file is an XML document, not an image',
  text: 'The file is text, not an image',
  unknown: 'The file is not a recognised image',
};

const unsupported = (message: string, details: Record<string, unknown>): ProbeError =>
  new ProbeError(ErrorCode.UnsupportedMediaType, `${message} Accepted formats: ${acceptedList()}.`, {
    details: { ...details, acceptedFormats: [...ACCEPTED_INPUT_FORMATS] },
  });

const unprocessable = (message: string, details: Record<string, unknown>, cause?: unknown): ProbeError =>
  new ProbeError(ErrorCode.UnprocessableImage, message, { details, cause });

/** Sharp's loader name for each sniffed format. */
const SHARP_FORMAT: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
  heic: 'heif',
  heif: 'heif',
};

const BITS_OF_DEPTH: Readonly<Partial<Record<string, number>>> = {
  uchar: 8,
  char: 8,
  ushort: 16,
  short: 16,
  uint: 32,
  int: 32,
  float: 32,
  double: 64,
};

/** Formats whose extra pages are animation frames (decoded and counted as such). */
const ANIMATED_FORMATS: ReadonlySet<ProbedFormat> = new Set(['gif', 'webp']);

/** The sniffed format, refused unless accepted (HEIF container is settled by its codec later). */
function sniffAccepted(input: Buffer): ImageFormat {
  const sniffed = sniffImage(input.subarray(0, SNIFF_BYTES));
  if (sniffed.format === undefined) {
    if (sniffed.reason === 'unsupported-image' && sniffed.detected !== undefined) {
      throw unsupported(`${FORMAT_NAMES[sniffed.detected]} images are not supported.`, {
        reason: sniffed.reason,
        detected: sniffed.detected,
      });
    }
    if (sniffed.reason === 'empty') {
      throw new ProbeError(ErrorCode.UnsupportedMediaType, NOT_AN_IMAGE.empty, {
        details: { reason: 'empty' },
      });
    }
    const reason = sniffed.reason === 'unsupported-image' ? 'unknown' : sniffed.reason;
    throw unsupported(`${NOT_AN_IMAGE[reason]}.`, { reason });
  }
  if (sniffed.format === 'heic') throw heicRefusal('heic');
  if (sniffed.format !== 'heif' && !isAcceptedInputFormat(sniffed.format)) {
    throw unsupported(`${FORMAT_NAMES[sniffed.format]} images are not supported.`, {
      reason: 'unsupported-format',
      format: sniffed.format,
    });
  }
  return sniffed.format;
}

const heicRefusal = (format: ImageFormat): ProbeError =>
  unsupported('HEIC images (HEIF with HEVC compression) are not supported: export as JPEG or AVIF.', {
    reason: 'unsupported-format',
    format,
  });

/** The sniffed format confirmed by Sharp's loader; HEIF resolved by its codec. */
function confirmFormat(sniffed: ImageFormat, metadata: Metadata): ProbedFormat {
  if (metadata.format !== SHARP_FORMAT[sniffed]) {
    throw unprocessable(`The file starts like a ${FORMAT_NAMES[sniffed]} image but is not a readable one.`, {
      reason: 'format-mismatch',
      format: sniffed,
    });
  }
  if (SHARP_FORMAT[sniffed] === 'heif') {
    if (metadata.compression !== 'av1') throw heicRefusal(sniffed);
    return 'avif';
  }
  if (sniffed === 'heic' || sniffed === 'heif') throw heicRefusal(sniffed);
  return sniffed;
}

const positiveInteger = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

/**
 * Reads and proves an uploaded image.
 *
 * @param input the whole file.
 * @param options.maxInputPixels most pixels, width × height × frames, checked from the header before
 *   any pixel is decoded and enforced again by Sharp (`limitInputPixels`) during the decode.
 * @param options.keepGps keep GPS tags in `exif` (default practice: false, location is private).
 * @returns the probe; `width`/`height` are display dimensions (after EXIF orientation).
 * @throws ProbeError UNSUPPORTED_MEDIA_TYPE (empty, not an image, SVG, HTML, XML, text, unknown,
 *   BMP/JPEG XL/..., HEIC), UNPROCESSABLE_IMAGE (unreadable header, content not matching its
 *   signature, corrupt or truncated pixel data), LIMIT_EXCEEDED (too many pixels or frames).
 * @throws RangeError when `maxInputPixels` is not a positive integer.
 */
export async function probeImage(input: Buffer, options: ProbeOptions): Promise<ImageProbe> {
  const { maxInputPixels, keepGps } = options;
  if (!positiveInteger(maxInputPixels)) {
    throw new RangeError(
      `Expected positive integer for maxInputPixels but received ${String(maxInputPixels)}`,
    );
  }
  const sniffed = sniffAccepted(input);

  // Header only: no pixel data is decoded, so the declared size can be checked before any decode.
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false, failOn: PROBE_FAIL_ON }).metadata();
  } catch (cause) {
    throw unprocessable(
      'The image could not be read: its header is corrupt.',
      { reason: 'corrupt-header', format: sniffed },
      cause,
    );
  }
  const format = confirmFormat(sniffed, metadata);
  const { width: storedWidth, height: storedHeight } = metadata;
  if (!positiveInteger(storedWidth) || !positiveInteger(storedHeight)) {
    throw unprocessable('The image declares no valid dimensions.', { reason: 'invalid-dimensions', format });
  }
  const pages = positiveInteger(metadata.pages) ? metadata.pages : 1;
  const animated = pages > 1 && ANIMATED_FORMATS.has(format);
  const frames = animated ? pages : 1;
  const pixels = storedWidth * storedHeight * frames;
  if (pixels > maxInputPixels) {
    const size = `${storedWidth}×${storedHeight}${frames > 1 ? ` × ${frames} frames` : ''}`;
    throw new ProbeError(
      ErrorCode.LimitExceeded,
      `The image is too large: ${size} is ${pixels} pixels, more than the ${maxInputPixels} allowed.`,
      {
        details: {
          reason: 'too-many-pixels',
          width: storedWidth,
          height: storedHeight,
          frames,
          pixels,
          maxInputPixels,
        },
      },
    );
  }

  const orientation =
    positiveInteger(metadata.orientation) && metadata.orientation <= 8 ? metadata.orientation : 1;
  const swapped = orientation >= 5;
  const width = swapped ? storedHeight : storedWidth;
  const height = swapped ? storedWidth : storedHeight;

  // The one decode: every frame of an animation, the first page otherwise, shrunk on load.
  const thumb = fitWithin(width, height);
  const pipeline = sharp(input, {
    limitInputPixels: maxInputPixels,
    failOn: PROBE_FAIL_ON,
    autoOrient: true,
    pages: animated ? -1 : 1,
  })
    .resize({ width: thumb.width, height: thumb.height, fit: 'fill' })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' });
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw unprocessable(
      'The image could not be decoded: its data is corrupt or truncated.',
      { reason: 'undecodable', format },
      cause,
    );
  }
  const frameBytes = thumb.width * thumb.height * 4;
  const { data, info } = decoded;
  if (info.channels !== 4 || info.width !== thumb.width || data.length < frameBytes) {
    throw new Error(
      `Unexpected thumbnail ${info.width}×${info.height}×${info.channels} for ${thumb.width}×${thumb.height}`,
    );
  }
  const placeholder = await computePlaceholder({ data: data.subarray(0, frameBytes), ...thumb });

  const bitDepth = positiveInteger(metadata.bitsPerSample)
    ? metadata.bitsPerSample
    : BITS_OF_DEPTH[metadata.depth];
  const profileName = metadata.icc === undefined ? undefined : iccProfileName(metadata.icc);
  return {
    format,
    mimeType: IMAGE_MIME_TYPES[format],
    width,
    height,
    orientation,
    pages,
    animated,
    hasAlpha: metadata.hasAlpha,
    colorSpace: metadata.space,
    channels: metadata.channels,
    ...(bitDepth === undefined ? {} : { bitDepth }),
    ...(typeof metadata.density === 'number' && metadata.density > 0 ? { density: metadata.density } : {}),
    hasIccProfile: metadata.hasProfile || metadata.icc !== undefined,
    ...(profileName === undefined ? {} : { iccProfileName: profileName }),
    exif: metadata.exif === undefined ? null : parseExif(metadata.exif, { keepGps }),
    dominantColor: placeholder.dominantColor,
    placeholder,
  };
}
