/**
 * The HTTP side of fuzzing: what an image URL may answer, checked the same way by the regular
 * suite and the stress run. Every answer is an image, a redirect to the canonical URL (which does
 * not redirect again), or a problem document with a 4xx status — or 503 with `Retry-After` when
 * renders are shed. Nothing else, and never another 5xx.
 */
import fc from 'fast-check';
import { encodePathSegment, extension, opsString, signedMutation, type SignedParts } from './fuzz-cases.js';

/** Accept headers of real browsers, and odd ones. */
export const acceptHeader: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  'image/webp,*/*',
  '*/*',
  'text/html',
  'image/avif;q=0, image/webp;q=0',
  ',;;;q=abc',
);

const MAGIC: Readonly<Record<string, (b: Buffer) => boolean>> = {
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8,
  'image/png': (b) => b.subarray(1, 4).toString('latin1') === 'PNG',
  'image/webp': (b) => b.subarray(8, 12).toString('latin1') === 'WEBP',
  'image/gif': (b) => b.subarray(0, 3).toString('latin1') === 'GIF',
  'image/avif': (b) => b.subarray(4, 8).toString('latin1') === 'ftyp',
};

/** One HTTP answer, body read. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

export async function getAnswer(url: string, accept?: string): Promise<Answer> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: accept === undefined ? {} : { accept },
    signal: AbortSignal.timeout(60_000),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

const ALLOWED_REFUSALS = new Set([400, 401, 403, 404, 413, 422, 429]);

/** Counts of statuses seen, for the stress run's report. */
export type StatusCounts = Map<number, number>;

/**
 * Checks one answer of the image endpoint.
 * @throws Error naming the URL and what was wrong.
 */
export function checkAnswer(url: string, answer: Answer): void {
  const type = answer.headers.get('content-type')?.split(';')[0] ?? '';
  const problem = (why: string) =>
    new Error(`${why}: ${answer.status} ${type} for ${url}: ${answer.body.toString('utf8', 0, 300)}`);
  if (answer.status === 200) {
    const magic = MAGIC[type];
    if (!magic) throw problem('200 without an image type');
    if (!magic(answer.body)) throw problem('200 whose bytes are not its type');
    return;
  }
  if (answer.status === 301) {
    const location = answer.headers.get('location');
    if (!location || !new URL(location, url).pathname.startsWith('/v1/'))
      throw problem('301 without an image location');
    return;
  }
  if (ALLOWED_REFUSALS.has(answer.status) || answer.status === 503) {
    if (type !== 'application/problem+json') throw problem('a refusal that is not a problem document');
    const body = JSON.parse(answer.body.toString('utf8')) as { status?: unknown; code?: unknown };
    if (body.status !== answer.status || typeof body.code !== 'string')
      throw problem('a malformed problem document');
    if (body.code === 'INTERNAL_SERVER_ERROR') throw problem('INTERNAL_SERVER_ERROR');
    if (answer.status === 503 && !answer.headers.get('retry-after')) throw problem('503 without Retry-After');
    return;
  }
  throw problem('unexpected status');
}

/** The image endpoint of one asset, for the ops property. */
export interface FuzzTarget {
  /** `{origin}/v1/pub/{org}/{tenant}/{space}/img/{asset}/v{n}/` */
  readonly base: string;
}

/**
 * Any ops string and extension on a public asset: a valid answer, and a 301 goes to a URL that
 * answers without redirecting again (the canonical form is a fixed point).
 */
export function opsProperty(target: FuzzTarget, counts?: StatusCounts) {
  return fc.asyncProperty(opsString, extension, acceptHeader, async (ops, ext, accept) => {
    const url = `${target.base}${encodePathSegment(ops)}.${encodePathSegment(ext)}`;
    const answer = await getAnswer(url, accept);
    counts?.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
    checkAnswer(url, answer);
    if (answer.status === 301) {
      const canonical = new URL(answer.headers.get('location')!, url).toString();
      const next = await getAnswer(canonical, accept);
      counts?.set(next.status, (counts.get(next.status) ?? 0) + 1);
      checkAnswer(canonical, next);
      if (next.status === 301)
        throw new Error(
          `the canonical URL ${canonical} (from ${url}) redirects again, to ${next.headers.get('location')}`,
        );
    }
  });
}

/** Mutated signed URLs: refused with 400/401/403/404 unless the mutation changed nothing. */
export function signedProperty(parts: SignedParts, counts?: StatusCounts) {
  return fc.asyncProperty(signedMutation(parts), async (mutation) => {
    const answer = await getAnswer(mutation.url);
    counts?.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
    checkAnswer(mutation.url, answer);
    const served = answer.status === 200 || answer.status === 301;
    if (served !== mutation.valid)
      throw new Error(
        `${mutation.label}: ${mutation.valid ? 'a valid URL was refused' : 'a tampered URL was served'} (${answer.status}) ${mutation.url}`,
      );
    if (!served && ![400, 401, 403, 404].includes(answer.status))
      throw new Error(`${mutation.label}: refused with ${answer.status} ${mutation.url}`);
  });
}
