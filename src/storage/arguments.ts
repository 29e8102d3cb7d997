/**
 * Checks of the non-key arguments every store takes, so both stores refuse the same inputs with
 * the same errors. These are preconditions of the callers: a broken one is a `RangeError`.
 */
import type { ByteRange, PresignPostOptions, WriteOptions } from './object-store.js';

/** Longest `Content-Type` or `Cache-Control` value stored with an object, in characters. */
export const MAX_HEADER_VALUE_LENGTH = 255;

/** Largest file a presigned form POST may accept, in bytes: S3's limit for a single POST (5 GiB). */
export const MAX_PRESIGNED_POST_BYTES = 5 * 1024 ** 3;

/** Longest lifetime of a presigned form POST, in seconds: S3's limit for SigV4 (7 days). */
export const MAX_PRESIGNED_POST_SECONDS = 7 * 24 * 3600;

const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"[^"\\\\\\r\\n]*"))*$`,
);
const PRINTABLE = /^[\x20-\x7e]*$/;

const describe = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/**
 * Checks a media type such as `image/jpeg` or `text/plain; charset=utf-8`.
 * @throws RangeError when it is not `type/subtype[; param=value]*` of at most 255 characters.
 */
export function assertContentType(contentType: unknown): asserts contentType is string {
  if (
    typeof contentType !== 'string' ||
    contentType.length > MAX_HEADER_VALUE_LENGTH ||
    !MEDIA_TYPE.test(contentType)
  ) {
    throw new RangeError(
      `Expected a media type such as image/jpeg for contentType but received ${describe(contentType)}`,
    );
  }
}

/**
 * Checks the options of `ObjectStore.write`.
 * @throws RangeError naming the first invalid option.
 */
export function assertWriteOptions(options: WriteOptions): void {
  assertContentType(options.contentType);
  if (options.bytes !== undefined && (!Number.isSafeInteger(options.bytes) || options.bytes < 0)) {
    throw new RangeError(`Expected a non-negative integer for bytes but received ${describe(options.bytes)}`);
  }
  const cc = options.cacheControl;
  if (
    cc !== undefined &&
    (typeof cc !== 'string' || cc.length > MAX_HEADER_VALUE_LENGTH || !PRINTABLE.test(cc))
  ) {
    throw new RangeError(
      `Expected printable ASCII of at most ${MAX_HEADER_VALUE_LENGTH} characters for cacheControl but received ${describe(cc)}`,
    );
  }
}

/**
 * Checks an inclusive byte range.
 * @throws RangeError unless `start` and `end` are integers with 0 ≤ start ≤ end.
 */
export function assertByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(
      `Expected integers 0 ≤ start ≤ end for a byte range but received ${describe(start)}-${describe(end)}`,
    );
  }
}

/**
 * Checks the `maxBytes` of `readBuffer`.
 * @throws RangeError unless it is a non-negative integer.
 */
export function assertMaxBytes(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`Expected a non-negative integer for maxBytes but received ${describe(maxBytes)}`);
  }
}

/** Presign options with defaults applied. */
export type ResolvedPresignPostOptions = Required<PresignPostOptions>;

/**
 * Checks presigned POST options and applies defaults (`minBytes` 1).
 * @throws RangeError naming the first invalid option.
 */
export function resolvePresignPostOptions(options: PresignPostOptions): ResolvedPresignPostOptions {
  assertContentType(options.contentType);
  const { maxBytes, expiresInSeconds } = options;
  const minBytes = options.minBytes ?? 1;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_PRESIGNED_POST_BYTES) {
    throw new RangeError(
      `Expected integer between 1 and ${MAX_PRESIGNED_POST_BYTES} for maxBytes but received ${describe(maxBytes)}`,
    );
  }
  if (!Number.isSafeInteger(minBytes) || minBytes < 0 || minBytes > maxBytes) {
    throw new RangeError(
      `Expected integer between 0 and ${maxBytes} for minBytes but received ${describe(minBytes)}`,
    );
  }
  if (
    !Number.isSafeInteger(expiresInSeconds) ||
    expiresInSeconds < 1 ||
    expiresInSeconds > MAX_PRESIGNED_POST_SECONDS
  ) {
    throw new RangeError(
      `Expected integer between 1 and ${MAX_PRESIGNED_POST_SECONDS} for expiresInSeconds but received ${describe(expiresInSeconds)}`,
    );
  }
  return { contentType: options.contentType, maxBytes, minBytes, expiresInSeconds };
}
