/** Stream helpers shared by the stores and the upload form route. */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ObjectTooLargeError, ObjectTooSmallError } from './errors.js';

/**
 * Turns a chunk of a byte stream into a Buffer without copying.
 * @throws TypeError for chunks that are not bytes or strings (object-mode streams).
 */
export function chunkToBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`Expected a byte stream but received a chunk of type ${typeof chunk}`);
}

/**
 * Reads a stream to its end into one Buffer, destroying it as soon as it passes `maxBytes`.
 * @param maxBytes largest accepted total, in bytes; default: no limit.
 * @throws ObjectTooLargeError (with `key`) when the stream is longer than `maxBytes`.
 */
export async function collectStream(
  stream: Readable,
  maxBytes = Number.POSITIVE_INFINITY,
  key?: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = chunkToBuffer(chunk);
    total += buffer.length;
    if (total > maxBytes) throw new ObjectTooLargeError(key, maxBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Bounds of `byteLimit`. */
export interface ByteLimitOptions {
  /** Fewest bytes the stream must carry; default 0. */
  minBytes?: number;
  /** Most bytes the stream may carry. */
  maxBytes: number;
  /** Key named in the errors. */
  key?: string;
}

/** A pass-through stream that counts bytes; `bytes` is the count so far. */
export interface ByteLimitStream extends Transform {
  readonly bytes: number;
}

/**
 * A pass-through that fails with `ObjectTooLargeError` as soon as more than `maxBytes` have gone
 * through (the excess is never passed on), and with `ObjectTooSmallError` at the end when fewer
 * than `minBytes` did. Put it between an untrusted body and `ObjectStore.write`.
 */
export function byteLimit(options: ByteLimitOptions): ByteLimitStream {
  const { maxBytes, key } = options;
  const minBytes = options.minBytes ?? 0;
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
      const buffer = chunkToBuffer(chunk);
      bytes += buffer.length;
      if (bytes > maxBytes) callback(new ObjectTooLargeError(key, maxBytes));
      else callback(null, buffer);
    },
    flush(callback: TransformCallback): void {
      callback(bytes < minBytes ? new ObjectTooSmallError(key, minBytes, bytes) : null);
    },
  });
  return Object.defineProperty(stream, 'bytes', { get: () => bytes, enumerable: true }) as ByteLimitStream;
}
