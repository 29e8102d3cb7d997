import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DomainError, ErrorCode } from '../errors/index.js';

export interface BoundedBytes {
  readonly data: Buffer;
  /** Lowercase hex SHA-256 of `data`, computed while reading. */
  readonly sha256: string;
}

/** A stream error that says the sender's file is larger than a limit set upstream (HTTP 413). */
const isTooLargeUpstream = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  ((error as { status?: unknown }).status === 413 || (error as { statusCode?: unknown }).statusCode === 413);

/**
 * Reads a stream to memory, hashing as it goes, and stops at once (destroying the stream, so the
 * rest is never read) when it passes `maxBytes`.
 * @throws DomainError PAYLOAD_TOO_LARGE past the limit; BAD_USER_INPUT when the stream fails.
 */
export async function readBounded(source: Readable, maxBytes: number): Promise<BoundedBytes> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  const tooLarge = () =>
    new DomainError(ErrorCode.PayloadTooLarge, `The file is larger than the ${maxBytes} bytes allowed.`, {
      details: { maxBytes },
    });
  try {
    for await (const chunk of source) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      total += buffer.length;
      if (total > maxBytes) {
        source.destroy();
        throw tooLarge();
      }
      hash.update(buffer);
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    if (isTooLargeUpstream(error)) throw tooLarge();
    throw new DomainError(
      ErrorCode.BadUserInput,
      'The upload was interrupted before the file was complete.',
      { cause: error },
    );
  }
  return { data: Buffer.concat(chunks, total), sha256: hash.digest('hex') };
}
