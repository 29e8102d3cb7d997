/**
 * Fuzzing, at the size of the regular suite (`npm run test:stress` runs the same properties
 * with well over 100,000 cases): the grammar in-process on op strings made of its own tokens and
 * garbage, then a live server on random image URLs and on mutated signed URLs — never a 5xx, never
 * an exception escaping, the canonical form a fixed point.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { describeWith } from '../support/services.js';
import type { TestTessera } from '../support/tessera.js';
import { dataOf } from '../delivery/delivery-client.js';
import { checkGrammar, opsString, type SignedParts } from './fuzz-cases.js';
import { graphqlTextProperty, opsProperty, signedProperty, type StatusCounts } from './fuzz-http.js';
import { FUZZ_LIMITS as LIMITS, startFuzzServer } from './fuzz-server.js';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

describeWith([], 'reliability: fuzzing op strings and signed URLs', () => {
  let t: TestTessera;
  let publicBase: string;
  let signed: SignedParts;
  const counts: StatusCounts = new Map();

  beforeAll(async () => {
    ({ t, publicBase, signed } = await startFuzzServer());
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
    await fc.assert(opsProperty({ base: publicBase }, counts), { numRuns: 300, seed });
    // the run reached every kind of answer: the property was not vacuous
    expect([200, 301, 400].map((status) => (counts.get(status) ?? 0) > 0)).toEqual([true, true, true]);
  }, 180_000);

  it('refuses every tampered signed URL with 400/401/403/404, and serves the untouched one', async () => {
    await fc.assert(signedProperty(signed), { numRuns: 400, seed });
  }, 120_000);

  it('answers GraphQL text arguments of any content (NUL, binary, huge) with data or a 4xx code, never INTERNAL_SERVER_ERROR', async () => {
    await fc.assert(graphqlTextProperty(t), { numRuns: 300, seed });
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
