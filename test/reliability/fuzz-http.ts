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

/** GraphQL operations with text arguments, and text of any content. */
const TEXT_OPERATIONS = [
  `query($s: ID!, $v: String) { assets(spaceId: $s, filter: { search: $v, folder: $v }) { edges { node { id } } } }`,
  `query($s: ID!, $v: String!) { assets(spaceId: $s, filter: { tags: [$v] }) { edges { node { id } } } }`,
  `query($s: ID!, $v: String) { assets(spaceId: $s, after: $v) { edges { node { id } } } }`,
  `query($v: ID!) { node(id: $v) { id } }`,
  `query($v: ID!) { asset(id: $v) { id } }`,
  `query($s: ID!, $v: String) { asset(id: $s) { url(preset: $v) } }`,
  `mutation($v: String!) { createTenant(input: { name: $v, slug: $v }) { id } }`,
  `mutation($v: String!) { createApiKey(input: { name: $v, scopes: [ASSETS_READ] }) { apiKey { id } } }`,
  `mutation($s: ID!, $v: String!) { createUpload(input: { spaceId: $s, filename: $v, contentType: $v, bytes: 10, folder: $v }) { uploadId } }`,
  `mutation($s: ID!, $v: String!) { createPreset(input: { spaceId: $s, name: $v, slug: $v, transform: { background: $v } }) { id } }`,
];
const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '%00', '../..', ' ', 'x'.repeat(5000)),
);

/** A GraphQL client with the admin key of the server's first space. */
export interface GraphQLTarget {
  readonly boot: { readonly spaceId: string };
  gql(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; errors?: { extensions?: { code?: string } }[] }>;
}

/** Text arguments of any content: data or a 4xx code, never a 5xx nor INTERNAL_SERVER_ERROR. */
export function graphqlTextProperty(t: GraphQLTarget, counts?: StatusCounts) {
  return fc.asyncProperty(fc.nat({ max: TEXT_OPERATIONS.length - 1 }), anyText, async (i, v) => {
    const res = await t.gql(TEXT_OPERATIONS[i]!, { s: t.boot.spaceId, v });
    counts?.set(res.status, (counts.get(res.status) ?? 0) + 1);
    const codes = (res.errors ?? []).map((e) => e.extensions?.code);
    if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR'))
      throw new Error(
        `${TEXT_OPERATIONS[i]} with ${JSON.stringify(v)}: ${res.status} ${JSON.stringify(res.errors)}`,
      );
  });
}
