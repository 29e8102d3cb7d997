/**
 * Rate limits and GraphQL limits, as a client or an operator sees them: statuses, codes, the
 * Retry-After and RateLimit-* headers, and that refused work (a render, a mutation) did not
 * happen. Every case uses its own client address (X-Forwarded-For behind TRUST_PROXY), its own
 * API keys or its own server, and limits over 60 s windows, so no case waits for a window or
 * depends on another one's counts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import type { Scope } from '../../src/auth/principal.js';
import { createSpace, rowId, type AssetView } from '../ingestion/ingest-client.js';
import {
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  rendersOf,
  settle,
  startSecondNode,
  upload,
  variantRows,
  type Fetched,
  type SecondNode,
} from '../delivery/delivery-client.js';

/** A client address no other case uses. */
const freshIp = (): string => {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c! === 0 ? 1 : c}`;
};

/** An image request from client address `ip`. */
const imageFrom = (url: string, ip: string): Promise<Fetched> => fetchImage(url, { 'x-forwarded-for': ip });

/** A new WebP variant of `asset` `width` pixels wide (the canonical URL: no redirect). */
const webp = (t: TestTessera, asset: AssetView, width: number, space?: string): string =>
  `${imageBase(t, asset, 'pub', space)}w_${width}-fmt_webp.webp`;

interface GraphQLAnswer<T> extends GraphQLResponse<T> {
  headers: Headers;
}

/** A GraphQL POST with an optional key and client address; the headers are kept. */
async function post<T = Record<string, unknown>>(
  baseUrl: string,
  body: Record<string, unknown>,
  options: { key?: string | null; ip?: string } = {},
): Promise<GraphQLAnswer<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.ip ? { 'x-forwarded-for': options.ip } : {}),
    },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, headers: response.headers, ...parsed };
}

/** Checks an answer is the GraphQL 429: RATE_LIMITED, a Retry-After of 1..60 s, and no data. */
function expectGraphQLRateLimited(answer: GraphQLAnswer<unknown>, limit: number): void {
  expect(answer.status).toBe(429);
  expect(answer.data).toBeUndefined();
  expect(codes(answer)).toEqual(['RATE_LIMITED']);
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(answer.errors![0]!.extensions).toMatchObject({ retryAfter, limit, window: 60 });
}

/** Checks an image answer is the 429 problem: RATE_LIMITED, a Retry-After of 1..60 s. */
function expectImageRateLimited(answer: Fetched, limit: number): void {
  const problem = expectProblem(answer, 429, 'RATE_LIMITED');
  expect(problem).toMatchObject({ limit, window: 60 });
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/**
 * A new API key of the boot organization, made by the boot key through the key service (as the
 * `createApiKey` mutation does) so that making it counts against no GraphQL rate limit.
 */
async function newKey(t: TestTessera, scopes: Scope[] = ['admin'], spaceId?: string): Promise<string> {
  const { apiKeys } = t.tessera.services;
  const created = await apiKeys.create(await apiKeys.verify(t.boot.apiKey), {
    name: `limits-${randomBytes(3).toString('hex')}`,
    scopes,
    spaceId: spaceId === undefined ? null : rowId(spaceId),
  });
  return created.token;
}

describe('image requests per client address', () => {
  const LIMIT = 5;
  let t: TestTessera;
  let rocket: AssetView;

  beforeAll(async () => {
    t = await startTestTessera({
      env: { TRUST_PROXY: 'true', RATE_LIMIT_IMAGES_PER_MINUTE: String(LIMIT) },
    });
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => t?.close());

  it('answers requests 1..N with RateLimit-Remaining counting down, then 429 without rendering', async () => {
    const ip = freshIp();
    const url = webp(t, rocket, 200);
    for (let i = 1; i <= LIMIT; i += 1) {
      const answer = await imageFrom(url, ip);
      expect({ i, status: answer.status }).toEqual({ i, status: 200 });
      expect(answer.headers.get('content-type')).toBe('image/webp');
      expect(answer.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
      const reset = Number(answer.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
    }
    // Request N+1 asks for a variant nobody has made: it is refused before any render.
    const renders = rendersOf(t.tessera);
    const refused = await imageFrom(webp(t, rocket, 201), ip);
    expectImageRateLimited(refused, LIMIT);
    expect(refused.headers.get('content-type')).not.toMatch(/^image\//);
    expect(rendersOf(t.tessera)).toBe(renders);
    expect((await variantRows(t, rocket.id)).map((r) => r.canonical)).not.toContain('w_201-fmt_webp');
    // A variant that exists is refused too: the limit counts every image request.
    expectImageRateLimited(await imageFrom(url, ip), LIMIT);
  });

  it('tells the client on the 429 how many it may make and that none is left', async () => {
    const ip = freshIp();
    const url = webp(t, rocket, 200);
    for (let i = 1; i <= LIMIT; i += 1) expect((await imageFrom(url, ip)).status).toBe(200);
    const refused = await imageFrom(url, ip);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('ratelimit-reset'))).toBe(Number(refused.headers.get('retry-after')));
  });

  it('counts each client address on its own', async () => {
    const [busy, other] = [freshIp(), freshIp()];
    const url = webp(t, rocket, 200);
    for (let i = 1; i <= LIMIT; i += 1) expect((await imageFrom(url, busy)).status).toBe(200);
    expect((await imageFrom(url, busy)).status).toBe(429);
    const answer = await imageFrom(url, other);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });
});

describe('new renders per client address, apart from image requests', () => {
  const RENDERS = 2;
  let t: TestTessera;
  let rocket: AssetView;

  beforeAll(async () => {
    t = await startTestTessera({
      env: {
        TRUST_PROXY: 'true',
        RATE_LIMIT_RENDERS_PER_MINUTE: String(RENDERS),
        RATE_LIMIT_IMAGES_PER_MINUTE: '100000',
      },
    });
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => t?.close());

  it('renders two new variants, refuses the third, and still serves the ones made', async () => {
    const ip = freshIp();
    const made = [webp(t, rocket, 301), webp(t, rocket, 302)];
    const before = rendersOf(t.tessera);
    for (const url of made) {
      const answer = await imageFrom(url, ip);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-cache')).toBe('render');
    }
    expect(rendersOf(t.tessera) - before).toBe(RENDERS);

    const refused = await imageFrom(webp(t, rocket, 303), ip);
    expectImageRateLimited(refused, RENDERS);
    expect(refused.body.toString()).toMatch(/new renders/);
    expect(rendersOf(t.tessera) - before).toBe(RENDERS);
    expect((await variantRows(t, rocket.id)).map((r) => r.canonical)).not.toContain('w_303-fmt_webp');

    // Cached variants are not renders: served again and again.
    for (let round = 0; round < 3; round += 1) {
      for (const url of made) {
        const answer = await imageFrom(url, ip);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-cache')).not.toBe('render');
      }
    }
    expect(rendersOf(t.tessera) - before).toBe(RENDERS);
  });

  it('lets another client address render what this one may not', async () => {
    const [busy, other] = [freshIp(), freshIp()];
    for (const width of [311, 312]) expect((await imageFrom(webp(t, rocket, width), busy)).status).toBe(200);
    expect((await imageFrom(webp(t, rocket, 313), busy)).status).toBe(429);
    const answer = await imageFrom(webp(t, rocket, 313), other);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-cache')).toBe('render');
    // Now that it exists, the busy address is served it: a hit is no render.
    expect((await imageFrom(webp(t, rocket, 313), busy)).status).toBe(200);
  });

  it("does not let a space's own rendersPerMinute (higher, or 0) lift the server's limit", async () => {
    const thirdRender: Record<string, number> = {};
    for (const [slug, rendersPerMinute] of [
      ['generous', 100],
      ['zero', 0],
    ] as const) {
      const spaceId = await createSpace(t, slug);
      const res = await t.gql(
        `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
        { id: spaceId, input: { rateLimits: { rendersPerMinute } } },
      );
      expect(res.errors).toBeUndefined();
      const photo = await upload(t, 'rocket.jpg', { spaceId });
      await settle(t);
      const ip = freshIp();
      for (const width of [321, 322])
        expect((await imageFrom(webp(t, photo, width, slug), ip)).status).toBe(200);
      thirdRender[`rendersPerMinute: ${rendersPerMinute}`] = (
        await imageFrom(webp(t, photo, 323, slug), ip)
      ).status;
    }
    expect(thirdRender).toEqual({ 'rendersPerMinute: 100': 429, 'rendersPerMinute: 0': 429 });
  });
});

describe('GraphQL requests per API key, and per client address without one', () => {
  const LIMIT = 4;
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({
      env: { TRUST_PROXY: 'true', RATE_LIMIT_GRAPHQL_PER_MINUTE: String(LIMIT) },
    });
  }, 120_000);
  afterAll(async () => t?.close());

  const NAME = `query { space(id: "%") { name } }`;

  it('answers N requests of a key with RateLimit headers, then 429 RATE_LIMITED; the refused mutation did not run', async () => {
    // Each key's own counter: the boot key's requests (making these keys) do not count for them.
    const [key, other] = [await newKey(t), await newKey(t)];
    const query = NAME.replace('%', t.boot.spaceId);
    for (let i = 1; i <= LIMIT; i += 1) {
      const answer = await post<{ space: { name: string } }>(t.baseUrl, { query }, { key, ip: freshIp() });
      expect({ i, status: answer.status, errors: answer.errors }).toEqual({
        i,
        status: 200,
        errors: undefined,
      });
      expect(answer.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
    }
    const before = dataOf(await post<{ space: { name: string } }>(t.baseUrl, { query }, { key: other }));
    // Request N+1 is a mutation, from yet another address: the key is limited wherever it calls from.
    const refused = await post(
      t.baseUrl,
      {
        query: `mutation($id: ID!) { updateSpace(id: $id, input: { name: "Renamed by a limited key" }) { name } }`,
        variables: { id: t.boot.spaceId },
      },
      { key, ip: freshIp() },
    );
    expectGraphQLRateLimited(refused, LIMIT);
    const after = dataOf(await post<{ space: { name: string } }>(t.baseUrl, { query }, { key: other }));
    expect(after.space.name).toBe(before.space.name);
    expect(after.space.name).not.toBe('Renamed by a limited key');
  });

  it('keeps answering a second key of the same organization', async () => {
    const [key, other] = [await newKey(t), await newKey(t)];
    for (let i = 1; i <= LIMIT; i += 1)
      expect((await post(t.baseUrl, { query: '{ viewer { actorId } }' }, { key })).status).toBe(200);
    expectGraphQLRateLimited(await post(t.baseUrl, { query: '{ viewer { actorId } }' }, { key }), LIMIT);
    const answer = await post<{ viewer: { actorId: string } }>(
      t.baseUrl,
      { query: '{ viewer { actorId } }' },
      { key: other },
    );
    expect(answer.status).toBe(200);
    expect(answer.data?.viewer.actorId).toMatch(/^key_/);
    expect(answer.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  it('counts requests without a key per client address', async () => {
    const [busy, other] = [freshIp(), freshIp()];
    for (let i = 1; i <= LIMIT; i += 1) {
      const answer = await post(t.baseUrl, { query: '{ __typename }' }, { ip: busy });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
    }
    expectGraphQLRateLimited(await post(t.baseUrl, { query: '{ __typename }' }, { ip: busy }), LIMIT);
    expect((await post(t.baseUrl, { query: '{ __typename }' }, { ip: other })).status).toBe(200);
    // A key calling from the limited address has its own counter.
    const key = await newKey(t);
    expect((await post(t.baseUrl, { query: '{ __typename }' }, { key, ip: busy })).status).toBe(200);
  });
});

describe("a space's own rate limits, set through updateSpace", () => {
  let t: TestTessera;
  let limitedSpace: string;
  let rocket: AssetView;
  let elsewhere: AssetView;

  const LIMITS = 'rateLimits { imagesPerMinute rendersPerMinute }';
  type Limits = { imagesPerMinute: number | null; rendersPerMinute: number | null };

  const setLimits = (rateLimits: unknown, key?: string) =>
    t.gql<{ updateSpace: { rateLimits: Limits } }>(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { ${LIMITS} } }`,
      { id: limitedSpace, input: { rateLimits } },
      key,
    );
  const limitsOf = async (): Promise<Limits> =>
    dataOf(
      await t.gql<{ space: { rateLimits: Limits } }>(`query($id: ID!) { space(id: $id) { ${LIMITS} } }`, {
        id: limitedSpace,
      }),
    ).space.rateLimits;
  const inLimited = (width: number): string => webp(t, rocket, width, 'limited');
  const inDefault = (width: number): string => webp(t, elsewhere, width);

  beforeAll(async () => {
    // The server's limits are far above the space's.
    t = await startTestTessera({ env: { TRUST_PROXY: 'true' } });
    limitedSpace = await createSpace(t, 'Limited');
    rocket = await upload(t, 'rocket.jpg', { spaceId: limitedSpace });
    elsewhere = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => t?.close());

  it('has none of its own until set', async () => {
    expect(await limitsOf()).toEqual({ imagesPerMinute: null, rendersPerMinute: null });
  });

  it('refuses the space new renders beyond its rendersPerMinute, and shows the limit in space { rateLimits }', async () => {
    expect(dataOf(await setLimits({ rendersPerMinute: 2 })).updateSpace.rateLimits).toEqual({
      imagesPerMinute: null,
      rendersPerMinute: 2,
    });
    expect(await limitsOf()).toEqual({ imagesPerMinute: null, rendersPerMinute: 2 });

    const ip = freshIp();
    const before = rendersOf(t.tessera);
    for (const width of [401, 402]) expect((await imageFrom(inLimited(width), ip)).status).toBe(200);
    const refused = await imageFrom(inLimited(403), ip);
    expectImageRateLimited(refused, 2);
    expect(rendersOf(t.tessera) - before).toBe(2);
    expect((await variantRows(t, rocket.id)).map((r) => r.canonical)).not.toContain('w_403-fmt_webp');
    // What it has rendered is still served; another space is held to the server's limit alone.
    expect((await imageFrom(inLimited(401), ip)).status).toBe(200);
    for (const width of [401, 402, 403, 404])
      expect((await imageFrom(inDefault(width), ip)).status).toBe(200);
  });

  it("refuses the space's image requests beyond its imagesPerMinute, keeping the fields not given", async () => {
    expect(dataOf(await setLimits({ imagesPerMinute: 3 })).updateSpace.rateLimits).toEqual({
      imagesPerMinute: 3,
      rendersPerMinute: 2,
    });
    const ip = freshIp();
    const url = inLimited(401);
    for (let i = 1; i <= 3; i += 1) expect((await imageFrom(url, ip)).status).toBe(200);
    expectImageRateLimited(await imageFrom(url, ip), 3);
    // The same address in another space, and another address in this one, are still served.
    expect((await imageFrom(inDefault(401), ip)).status).toBe(200);
    expect((await imageFrom(url, freshIp())).status).toBe(200);
  });

  it('clears a limit with null, and all of them with rateLimits: null', async () => {
    expect(dataOf(await setLimits({ imagesPerMinute: null })).updateSpace.rateLimits).toEqual({
      imagesPerMinute: null,
      rendersPerMinute: 2,
    });
    const ip = freshIp();
    for (let i = 1; i <= 5; i += 1) expect((await imageFrom(inLimited(401), ip)).status).toBe(200);

    expect(dataOf(await setLimits(null)).updateSpace.rateLimits).toEqual({
      imagesPerMinute: null,
      rendersPerMinute: null,
    });
    expect(await limitsOf()).toEqual({ imagesPerMinute: null, rendersPerMinute: null });
    const renderer = freshIp();
    for (const width of [411, 412, 413, 414]) {
      const answer = await imageFrom(inLimited(width), renderer);
      expect({ width, status: answer.status }).toEqual({ width, status: 200 });
    }
  });

  it('audits each change with what was asked', async () => {
    await setLimits({ imagesPerMinute: 120, rendersPerMinute: 30 });
    const res = await t.gql<{
      auditLog: { edges: { node: { action: string; resourceId: string; details: unknown } }[] };
    }>(
      `query($f: AuditFilterInput) { auditLog(first: 1, filter: $f) { edges { node { action resourceId details } } } }`,
      { f: { action: 'space.update', resourceId: limitedSpace } },
    );
    expect(dataOf(res).auditLog.edges.map((e) => e.node)).toEqual([
      {
        action: 'space.update',
        resourceId: limitedSpace,
        details: { rateLimits: { imagesPerMinute: 120, rendersPerMinute: 30 } },
      },
    ]);
  });

  it('refuses limits out of 0..10,000,000 with BAD_USER_INPUT, changing nothing', async () => {
    await setLimits({ imagesPerMinute: 120, rendersPerMinute: 30 });
    for (const rateLimits of [
      { imagesPerMinute: -1 },
      { rendersPerMinute: 10_000_001 },
      { imagesPerMinute: 5, rendersPerMinute: -5 },
    ]) {
      const res = await setLimits(rateLimits);
      expect({ rateLimits, codes: codes(res) }).toEqual({ rateLimits, codes: ['BAD_USER_INPUT'] });
      expect(res.errors![0]!.extensions?.details).toMatchObject({
        field: expect.stringMatching(/^rateLimits\.(imagesPerMinute|rendersPerMinute)$/),
      });
    }
    // Not an Int at all: refused before anything runs.
    for (const value of [2 ** 31, 1.5, 'ten']) {
      const res = await setLimits({ rendersPerMinute: value });
      expect({ value, codes: codes(res) }).toEqual({ value, codes: ['BAD_USER_INPUT'] });
    }
    expect(await limitsOf()).toEqual({ imagesPerMinute: 120, rendersPerMinute: 30 });
    // The bounds themselves are accepted.
    expect(
      dataOf(await setLimits({ imagesPerMinute: 0, rendersPerMinute: 10_000_000 })).updateSpace.rateLimits,
    ).toEqual({ imagesPerMinute: 0, rendersPerMinute: 10_000_000 });
  });

  it('refuses a key bound to the space, and keys without the admin scope', async () => {
    await setLimits({ imagesPerMinute: 120, rendersPerMinute: 30 });
    const bound = await newKey(t, ['admin'], limitedSpace);
    expect(codes(await setLimits({ rendersPerMinute: 1_000_000 }, bound))).toEqual(['FORBIDDEN']);
    const writer = await newKey(t, ['assets:write']);
    expect(codes(await setLimits({ rendersPerMinute: 1_000_000 }, writer))).toEqual(['FORBIDDEN']);
    expect(await limitsOf()).toEqual({ imagesPerMinute: 120, rendersPerMinute: 30 });
  });
});

describeWith(['redis', 's3'], 'limits across two nodes sharing Redis', () => {
  const LIMIT = 6;
  let t: TestTessera;
  let second: SecondNode;
  let rocket: AssetView;

  beforeAll(async () => {
    const env = {
      TRUST_PROXY: 'true',
      JOBS_IN_PROCESS: 'true',
      RATE_LIMIT_IMAGES_PER_MINUTE: String(LIMIT),
      RATE_LIMIT_GRAPHQL_PER_MINUTE: String(LIMIT),
    };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  for (const last of ['first', 'second'] as const) {
    it(`counts image requests on both nodes together: 3 on each pass, the next on the ${last} node is 429`, async () => {
      const ip = freshIp();
      const url = webp(t, rocket, 200);
      for (let i = 1; i <= LIMIT / 2; i += 1) expect((await imageFrom(url, ip)).status).toBe(200);
      for (let i = 1; i <= LIMIT / 2; i += 1)
        expect((await imageFrom(second.here(url), ip)).status).toBe(200);
      const renders = rendersOf(t.tessera) + rendersOf(second.tessera);
      const fresh = webp(t, rocket, 202);
      const refused = await imageFrom(last === 'first' ? fresh : second.here(fresh), ip);
      expectImageRateLimited(refused, LIMIT);
      expect(rendersOf(t.tessera) + rendersOf(second.tessera)).toBe(renders);
      // ... and so is any request of that address, on either node.
      expect((await imageFrom(url, ip)).status).toBe(429);
      expect((await imageFrom(second.here(url), ip)).status).toBe(429);
    });
  }

  it('counts a GraphQL key on both nodes together', async () => {
    const key = await newKey(t);
    const ask = (baseUrl: string) => post(baseUrl, { query: '{ viewer { actorId } }' }, { key });
    for (let i = 1; i <= LIMIT / 2; i += 1) {
      expect((await ask(t.baseUrl)).status).toBe(200);
      expect((await ask(second.baseUrl)).status).toBe(200);
    }
    expectGraphQLRateLimited(await ask(second.baseUrl), LIMIT);
    expectGraphQLRateLimited(await ask(t.baseUrl), LIMIT);
  });
});

describe('GraphQL query limits', () => {
  const MAX = { depth: 8, aliases: 3, cost: 500, pageSize: 50, bodyBytes: 4096 };
  let t: TestTessera;
  let rocket: AssetView;

  beforeAll(async () => {
    t = await startTestTessera({
      env: {
        GRAPHQL_MAX_DEPTH: String(MAX.depth),
        GRAPHQL_MAX_ALIASES: String(MAX.aliases),
        GRAPHQL_MAX_COST: String(MAX.cost),
        GRAPHQL_MAX_PAGE_SIZE: String(MAX.pageSize),
        GRAPHQL_MAX_BODY_BYTES: String(MAX.bodyBytes),
        GRAPHQL_INTROSPECTION: 'false',
      },
    });
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => t?.close());

  /** Assets and their variants, `first` of each. */
  const nested = (assets: number, variants: number): string =>
    `query($space: ID!) { assets(spaceId: $space, first: ${assets}) { edges { node { id variants(first: ${variants}) { edges { node { id canonical width } } } } } } }`;

  /** Checks a refusal before execution: HTTP 400, LIMIT_EXCEEDED with its details, no data. */
  function expectLimitExceeded(res: GraphQLResponse<unknown>, details: Record<string, number>): void {
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(codes(res)).toEqual(['LIMIT_EXCEEDED']);
    expect(res.errors![0]!.extensions).toEqual({ code: 'LIMIT_EXCEEDED', details });
  }

  it('answers a normal query, nested connections with small pages included', async () => {
    const res = await t.gql<{
      assets: { edges: { node: { id: string; variants: { edges: unknown[] } } }[] };
    }>(nested(5, 5), { space: t.boot.spaceId });
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(dataOf(res).assets.edges.map((e) => e.node.id)).toEqual([rocket.id]);
    const aliased = await t.gql<{ a: { id: string }[]; c: { id: string }[] }>(
      `{ a: spaces { id } b: spaces { id } c: spaces { id } }`,
    );
    expect(aliased.status).toBe(200);
    expect(dataOf(aliased).c.map((s) => s.id)).toEqual([t.boot.spaceId]);
  });

  it('refuses a query deeper than GRAPHQL_MAX_DEPTH', async () => {
    let selection = 'id';
    // spaces(1) → tenant(2) → spaces(3) → … → id(9)
    for (let level = 0; level < 4; level += 1) selection = `spaces { tenant { ${selection} } }`;
    expectLimitExceeded(await t.gql(`{ ${selection} }`), { depth: 9, maxDepth: MAX.depth });
    // One level less is served.
    const shallower = `{ spaces { tenant { spaces { tenant { spaces { tenant { spaces { id } } } } } } } }`;
    expect((await t.gql(shallower)).errors).toBeUndefined();
  });

  it('refuses an operation with more aliases than GRAPHQL_MAX_ALIASES', async () => {
    expectLimitExceeded(
      await t.gql(`{ a: spaces { id } b: spaces { id } c: spaces { id } d: spaces { id } }`),
      {
        aliases: 4,
        maxAliases: MAX.aliases,
      },
    );
  });

  it('refuses an operation whose estimated cost is over GRAPHQL_MAX_COST (large pages of nested connections)', async () => {
    const res = await t.gql(nested(50, 50), { space: t.boot.spaceId });
    expect(codes(res)).toEqual(['LIMIT_EXCEEDED']);
    const details = res.errors![0]!.extensions?.details as { cost: number; maxCost: number };
    expect(details.maxCost).toBe(MAX.cost);
    expect(details.cost).toBeGreaterThan(50 * 50);
    expectLimitExceeded(res, details);
    // The page size in a variable counts the same.
    const viaVariable = await t.gql(
      `query($space: ID!, $n: Int) { assets(spaceId: $space, first: $n) { edges { node { variants(first: $n) { edges { node { id } } } } } } }`,
      { space: t.boot.spaceId, n: 40 },
    );
    expect(codes(viaVariable)).toEqual(['LIMIT_EXCEEDED']);
  });

  it('refuses `first` above GRAPHQL_MAX_PAGE_SIZE with BAD_USER_INPUT naming it', async () => {
    const res = await t.gql(
      `query($space: ID!) { assets(spaceId: $space, first: ${MAX.pageSize + 1}) { edges { node { id } } } }`,
      {
        space: t.boot.spaceId,
      },
    );
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0]!.extensions?.details).toEqual({ field: 'first', max: MAX.pageSize });
    const atMax = await t.gql(
      `query($space: ID!) { assets(spaceId: $space, first: ${MAX.pageSize}) { edges { node { id } } } }`,
      {
        space: t.boot.spaceId,
      },
    );
    expect(atMax.errors).toBeUndefined();
  });

  it('refuses a body above GRAPHQL_MAX_BODY_BYTES with 413, running nothing', async () => {
    const before = dataOf(
      await t.gql<{ space: { name: string } }>(`query($id: ID!) { space(id: $id) { name } }`, {
        id: t.boot.spaceId,
      }),
    ).space.name;
    const body = JSON.stringify({
      query: `mutation($id: ID!, $name: String!) { updateSpace(id: $id, input: { name: $name }) { name } }`,
      variables: { id: t.boot.spaceId, name: `Too big ${'x'.repeat(MAX.bodyBytes)}`.slice(0, 200) },
      padding: ' '.repeat(MAX.bodyBytes),
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX.bodyBytes);
    const response = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.boot.apiKey}` },
      body,
    });
    expectProblem(
      { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) },
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const after = dataOf(
      await t.gql<{ space: { name: string } }>(`query($id: ID!) { space(id: $id) { name } }`, {
        id: t.boot.spaceId,
      }),
    ).space.name;
    expect(after).toBe(before);
  });

  it('refuses introspection when GRAPHQL_INTROSPECTION is false; __typename still answers', async () => {
    for (const query of [
      '{ __schema { types { name } } }',
      '{ __type(name: "Asset") { fields { name } } }',
    ]) {
      const res = await t.gql(query);
      expect({ query, status: res.status, codes: codes(res) }).toEqual({
        query,
        status: 400,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
      });
      expect(res.errors![0]!.message).toMatch(/introspection/i);
      expect(res.data).toBeUndefined();
    }
    expect(await t.gql('{ __typename }')).toEqual({ status: 200, data: { __typename: 'Query' } });
  });

  it('supports automatic persisted queries: hash alone unknown, then registered with the query, then the hash alone works', async () => {
    // A query of this run only, so no earlier request has registered it.
    const query = `query Apq${randomBytes(4).toString('hex')} { viewer { actorId } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const key = t.boot.apiKey;

    const unknown = await post(t.baseUrl, { extensions }, { key });
    expect(unknown.status).toBe(200);
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(unknown.data).toBeUndefined();

    const registered = await post<{ viewer: { actorId: string } }>(t.baseUrl, { query, extensions }, { key });
    expect(registered.status).toBe(200);
    expect(registered.errors).toBeUndefined();
    const actorId = dataOf(registered).viewer.actorId;

    const byHash = await post<{ viewer: { actorId: string } }>(t.baseUrl, { extensions }, { key });
    expect({ status: byHash.status, errors: byHash.errors, data: byHash.data }).toEqual({
      status: 200,
      errors: undefined,
      data: { viewer: { actorId } },
    });

    // A hash that is not the query's is refused, and registers nothing.
    const wrong = createHash('sha256').update(`${query} `).digest('hex');
    const mismatch = await post(
      t.baseUrl,
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } },
      { key },
    );
    expect(mismatch.status).toBe(400);
    const later = await post(
      t.baseUrl,
      { extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } },
      { key },
    );
    expect(codes(later)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('applies the limits to persisted queries too', async () => {
    const query = `{ a${randomBytes(2).toString('hex')}: spaces { id } b: spaces { id } c: spaces { id } d: spaces { id } }`;
    const extensions = {
      persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') },
    };
    const res = await post(t.baseUrl, { query, extensions }, { key: t.boot.apiKey });
    expectLimitExceeded(res, { aliases: 4, maxAliases: MAX.aliases });
    // A refused query is not registered.
    expect(codes(await post(t.baseUrl, { extensions }, { key: t.boot.apiKey }))).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
  });
});
