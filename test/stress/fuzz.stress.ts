/**
 * `npm run test:stress` (or `npm run fuzz`): the fuzzing properties of the regular suite at full
 * size — 150,000 op strings through the grammar in-process, then 3,000 random image URLs, 2,000
 * tampered signed URLs and 1,000 GraphQL text arguments against a live server. Counts can be
 * changed with FUZZ_GRAMMAR_RUNS, FUZZ_HTTP_RUNS (the three HTTP properties share it, 3 : 2 : 1),
 * and a failure is replayed with FUZZ_SEED.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { describeWith } from '../support/services.js';
import { checkGrammar, opsString } from '../reliability/fuzz-cases.js';
import {
  graphqlTextProperty,
  opsProperty,
  signedProperty,
  type StatusCounts,
} from '../reliability/fuzz-http.js';
import { FUZZ_LIMITS, startFuzzServer, type FuzzServer } from '../reliability/fuzz-server.js';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const grammarRuns = Number(process.env.FUZZ_GRAMMAR_RUNS ?? 150_000);
const httpRuns = Number(process.env.FUZZ_HTTP_RUNS ?? 6_000);

describeWith([], 'stress: fuzzing op strings, image URLs, signed URLs and GraphQL text', () => {
  let server: FuzzServer;
  const rows: { property: string; cases: number; ms: number; statuses: StatusCounts }[] = [];

  const timed = async (
    property: string,
    cases: number,
    statuses: StatusCounts,
    run: () => Promise<void> | void,
  ) => {
    const started = Date.now();
    await run();
    rows.push({ property, cases, ms: Date.now() - started, statuses });
  };

  beforeAll(async () => {
    server = await startFuzzServer();
  }, 120_000);
  afterAll(async () => {
    const total = rows.reduce((sum, r) => sum + r.cases, 0);
    process.stdout.write(
      [
        '',
        `Fuzzing, seed ${seed}:`,
        '| property | cases | seconds | statuses |',
        '| --- | --- | --- | --- |',
        ...rows.map(
          (r) =>
            `| ${r.property} | ${r.cases} | ${(r.ms / 1000).toFixed(1)} | ${[...r.statuses.entries()]
              .sort(([a], [b]) => a - b)
              .map(([status, count]) => `${status}: ${count}`)
              .join(', ')} |`,
        ),
        `| total | ${total} | | |`,
        '',
      ].join('\n'),
    );
    await server?.t.close();
  });

  it(`parses ${grammarRuns} op strings or refuses them with BAD_USER_INPUT; canonical strings are fixed points`, async () => {
    await timed('grammar, in-process', grammarRuns, new Map(), () =>
      fc.assert(
        fc.property(opsString, (ops) => checkGrammar(ops, FUZZ_LIMITS)),
        { numRuns: grammarRuns, seed },
      ),
    );
  });

  it('answers random image URLs with an image, a canonical redirect or a 4xx problem, never a 5xx', async () => {
    const statuses: StatusCounts = new Map();
    const runs = Math.round(httpRuns / 2);
    await timed('image URLs, HTTP', runs, statuses, () =>
      fc.assert(opsProperty({ base: server.publicBase }, statuses), { numRuns: runs, seed }),
    );
    expect([200, 301, 400].map((status) => (statuses.get(status) ?? 0) > 0)).toEqual([true, true, true]);
  });

  it('refuses every tampered signed URL, and serves the untouched one', async () => {
    const statuses: StatusCounts = new Map();
    const runs = Math.round(httpRuns / 3);
    await timed('signed URLs, HTTP', runs, statuses, () =>
      fc.assert(signedProperty(server.signed, statuses), { numRuns: runs, seed }),
    );
  });

  it('answers GraphQL text of any content with data or a 4xx code', async () => {
    const statuses: StatusCounts = new Map();
    const runs = Math.round(httpRuns / 6);
    await timed('GraphQL text, HTTP', runs, statuses, () =>
      fc.assert(graphqlTextProperty(server.t, statuses), { numRuns: runs, seed }),
    );
  });

  it('ran at least 100,000 cases, and the server is still healthy', async () => {
    expect(rows.reduce((sum, r) => sum + r.cases, 0)).toBeGreaterThanOrEqual(
      process.env.FUZZ_GRAMMAR_RUNS || process.env.FUZZ_HTTP_RUNS ? 0 : 100_000,
    );
    expect((await fetch(`${server.t.baseUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.t.baseUrl}/metrics`)).text();
    expect(
      metrics.split('\n').filter((l) => l.startsWith('tessera_http') && /status="5\d\d"/.test(l)),
    ).toEqual([]);
  });
});
