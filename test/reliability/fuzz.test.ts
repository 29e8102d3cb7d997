/**
 * Fuzzing, at the size of the regular suite (`npm run test:stress` runs the same properties
 * with well over 100,000 cases): the grammar in-process on op strings made of its own tokens and
 * garbage, then a live server on random image URLs and on mutated signed URLs — never a 5xx, never
 * an exception escaping, the canonical form a fixed point.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sharp from 'sharp';
import { bootstrapOrganization } from '../../src/tenancy/bootstrap.js';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { JOBS_OFF } from '../ingestion/ingest-client.js';
import { dataOf, imageBase, signerOf, upload, urlOf } from '../delivery/delivery-client.js';
import { checkGrammar, opsString } from './fuzz-cases.js';
import { opsProperty, signedProperty, type StatusCounts } from './fuzz-http.js';

const LIMITS = { maxOutputDimension: 1024, maxOperations: 24 };
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

describeWith([], 'reliability: fuzzing op strings and signed URLs', () => {
  let t: TestTessera;
  let publicBase: string;
  let signed: Parameters<typeof signedProperty>[0];
  const counts: StatusCounts = new Map();

  beforeAll(async () => {
    t = await startTestTessera({
      env: {
        ...JOBS_OFF,
        MAX_OUTPUT_DIMENSION: String(LIMITS.maxOutputDimension),
        RENDER_TIMEOUT_SECONDS: '10',
        RATE_LIMIT_IMAGES_PER_MINUTE: '0',
        RATE_LIMIT_RENDERS_PER_MINUTE: '0',
      },
    });
    // a small photograph: thousands of renders stay cheap
    const small = await sharp(fixture('rocket.jpg')).resize({ width: 160 }).jpeg().toBuffer();
    const pub = await upload(t, 'rocket.jpg', { bytes: small, filename: 'small.jpg' });
    publicBase = imageBase(t, pub);
    const priv = await upload(t, 'rocket.jpg', {
      bytes: await sharp(small).flop().jpeg().toBuffer(),
      filename: 'private.jpg',
      access: 'PRIVATE',
    });
    const url = new URL(await urlOf(t, priv.id, { transform: { width: 100 }, expiresIn: 3600 }));
    const other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Fuzz other',
    });
    const own = await signerOf(t, t.boot.organizationId);
    signed = {
      origin: url.origin,
      path: url.pathname,
      exp: Number(url.searchParams.get('exp')),
      kid: url.searchParams.get('kid')!,
      sig: url.searchParams.get('sig')!,
      secret: own.secret,
      foreign: await signerOf(t, other.organizationId),
    };
    expect(signed.kid).toBe(own.kid);
  }, 120_000);
  afterAll(async () => t?.close());

  it('runs with an output limit below the built-in presets: they are shrunk to fit, keeping their shape', async () => {
    const presets = dataOf(
      await t.gql<{ presets: { slug: string; transform: { width: number; height: number } }[] }>(
        `query($s: ID!) { presets(spaceId: $s) { slug transform { width height } } }`,
        { s: t.boot.spaceId },
      ),
    ).presets;
    expect(presets.find((p) => p.slug === 'large')?.transform).toEqual({ width: 1024, height: 768 });
    expect(presets.find((p) => p.slug === 'medium')?.transform).toEqual({ width: 800, height: 600 });
  });

  it('parses any op string or refuses it with BAD_USER_INPUT naming a token; canonical strings are fixed points', () => {
    fc.assert(
      fc.property(opsString, (ops) => checkGrammar(ops, LIMITS)),
      { numRuns: 20_000, seed },
    );
  });

  it('answers random image URLs with an image, a canonical redirect or a 4xx problem, never a 5xx', async () => {
    await fc.assert(opsProperty({ base: publicBase }, counts), { numRuns: 400, seed });
    // the run reached every kind of answer: the property was not vacuous
    expect([200, 301, 400].map((status) => (counts.get(status) ?? 0) > 0)).toEqual([true, true, true]);
  }, 180_000);

  it('refuses every tampered signed URL with 400/401/403/404, and serves the untouched one', async () => {
    await fc.assert(signedProperty(signed), { numRuns: 400, seed });
  }, 120_000);

  it('answers GraphQL text arguments of any content (NUL, binary, huge) with data or a 4xx code, never INTERNAL_SERVER_ERROR', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '%00', '../..', ' ', 'x'.repeat(5000)),
    );
    const operations = [
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
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: operations.length - 1 }), text, async (i, v) => {
        const res = await t.gql(operations[i]!, { s: t.boot.spaceId, v });
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR'))
          throw new Error(
            `${operations[i]} with ${JSON.stringify(v)}: ${res.status} ${JSON.stringify(res.errors)}`,
          );
      }),
      { numRuns: 300, seed },
    );
  }, 120_000);

  it('is still healthy afterwards', async () => {
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(
      metrics.split('\n').filter((l) => l.startsWith('tessera_http') && /status="5\d\d"/.test(l)),
    ).toEqual([]);
    dataOf(await t.gql(`{ viewer { kind } }`));
  });
});
