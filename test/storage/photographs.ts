/** Real photographs as storage payloads, and byte streams made from them. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { fixture, fixturePath } from '../support/fixtures.js';

let large: Promise<Buffer> | undefined;

/**
 * A photograph of several MB (the 13 MP dragonfly re-encoded at JPEG quality 100 without chroma
 * subsampling: about 5.4 MB), larger than one 5 MiB S3 part.
 */
export function largePhotograph(): Promise<Buffer> {
  large ??= sharp(fixturePath('Dragonfly_by_Bolly.jpg'))
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
  return large;
}

export const rocket = (): Buffer => fixture('rocket.jpg');
export const chelsea = (): Buffer => fixture('chelsea.png');
export const hubble = (): Buffer => fixture('hubble_deep_field.jpg');

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A stream of `bytes` in chunks of `chunkBytes`, with no declared length. */
export function chunked(bytes: Buffer, chunkBytes = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += chunkBytes)
        yield bytes.subarray(offset, offset + chunkBytes);
    })(),
  );
}

/** A stream that delivers the first `failAfter` bytes of `bytes`, then fails with `error`. */
export function failingMidway(bytes: Buffer, failAfter: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < failAfter; offset += 64 * 1024) {
        yield bytes.subarray(offset, Math.min(offset + 64 * 1024, failAfter));
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw error;
    })(),
  );
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
