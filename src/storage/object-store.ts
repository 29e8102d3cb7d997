/**
 * The object storage port: a small interface over a flat namespace of keys holding immutable
 * byte strings, implemented by S3 (any S3 API) and by the local disk. Both pass the same contract
 * suite (`test/storage/object-store.contract.ts`).
 */
import type { Readable } from 'node:stream';

/** What a store knows about one object. */
export interface ObjectInfo {
  /** The object's key. */
  key: string;
  /** Size in bytes. */
  bytes: number;
  /** Media type given when the object was written. Absent in listings from S3. */
  contentType?: string;
  /** Opaque entity tag without quotes: changes whenever the bytes change. */
  etag?: string;
  /** When the object was last written. Absent right after an S3 write. */
  lastModified?: Date;
  /** `Cache-Control` given when the object was written; only `stat` reports it. */
  cacheControl?: string;
}

/** Everything a browser needs to upload one object with a `multipart/form-data` form POST. */
export interface PresignedPost {
  /** Where the form is POSTed. */
  url: string;
  /** Form fields to send, in this order, before the `file` field (which must come last). */
  fields: Record<string, string>;
  /** After this instant the form is refused. */
  expiresAt: Date;
}

/** Conditions a presigned form POST enforces. */
export interface PresignPostOptions {
  /** The exact `Content-Type` form field the upload must carry, e.g. `image/jpeg`. */
  contentType: string;
  /** Largest accepted file, in bytes (1 … 5 GiB). */
  maxBytes: number;
  /** Smallest accepted file, in bytes (0 … maxBytes). Default: 1. */
  minBytes?: number;
  /** Lifetime of the form, in seconds (1 … 604 800). */
  expiresInSeconds: number;
}

/** Options of `ObjectStore.write`. */
export interface WriteOptions {
  /** Media type stored with the object, e.g. `image/webp` (at most 255 characters). */
  contentType: string;
  /**
   * Exact length of the body in bytes, when known. A stream that delivers a different number of
   * bytes fails the write with `ObjectSizeMismatchError` and leaves nothing behind.
   */
  bytes?: number;
  /** `Cache-Control` stored with the object (S3 serves it with the object; `stat` reports it). */
  cacheControl?: string;
  /**
   * `false` for an object that can be made again (a rendered variant): the local store then
   * skips its flushes to disk. After a crash such an object may be missing or damaged
   * (`ObjectDamagedError` on read), never served cut short. Default `true`.
   */
  durable?: boolean;
}

/** An inclusive byte range: `{ start: 0, end: 99 }` is the first 100 bytes. */
export interface ByteRange {
  /** First byte, 0-based. */
  start: number;
  /** Last byte, inclusive; clamped to the last byte of the object. */
  end: number;
}

/**
 * Object storage. Keys are `/`-separated segments of `[A-Za-z0-9._-]` (see `assertObjectKey`);
 * every method refuses other keys with `InvalidObjectKeyError` before touching the store. A write
 * is atomic: readers see the old object or the new one, never a part; a failed write leaves
 * nothing behind. Failures of the backing service raise `StorageUnavailableError`.
 */
export interface ObjectStore {
  /** Which implementation this is. */
  readonly kind: 's3' | 'local';

  /** The object's size, type and tag, or `undefined` when it does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;

  /**
   * A stream of the object's bytes, or of an inclusive byte range of them.
   * @throws ObjectNotFoundError when the object does not exist.
   * @throws ObjectRangeNotSatisfiableError when `range.start` is at or beyond the end.
   * @throws RangeError when the range is not two integers with 0 ≤ start ≤ end.
   */
  read(key: string, range?: ByteRange): Promise<Readable>;

  /**
   * The whole object in memory.
   * @param maxBytes largest object accepted, in bytes; default: no limit.
   * @throws ObjectNotFoundError when the object does not exist.
   * @throws ObjectTooLargeError when the object is larger than `maxBytes`.
   */
  readBuffer(key: string, maxBytes?: number): Promise<Buffer>;

  /**
   * Stores `body` under `key`, replacing any object there. Streams of unknown length are
   * accepted. When the body stream fails, the write fails with the stream's own error.
   * @throws ObjectSizeMismatchError when `options.bytes` is given and the body differs.
   * @throws RangeError when the content type or cache control is not a valid header value.
   */
  write(key: string, body: Readable | Buffer, options: WriteOptions): Promise<ObjectInfo>;

  /** Removes the object. Deleting a missing object succeeds. */
  delete(key: string): Promise<void>;

  /** Removes every listed object; missing ones are fine. All keys are validated first. */
  deleteMany(keys: readonly string[]): Promise<void>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix: `a/b` matches `a/b.jpg`
   * and `a/bc/d`); `''` lists everything. The local store and S3 itself list in ascending key
   * order, but some S3-compatible servers do not: do not rely on the order.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /**
   * A form a browser can POST to upload exactly `key`, with the given type and size bounds.
   * @throws RangeError when the options are out of range.
   */
  presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost>;

  /**
   * Readiness probe: resolves when the store can be read and written.
   * @throws StorageUnavailableError otherwise.
   */
  check(): Promise<void>;
}
