/**
 * A public image URL answered before is answered from memory ahead of routing while its variant
 * is held in memory and nothing about it changed. Such an answer must be the routed answer
 * exactly (status, headers, bytes; 304 and HEAD; Vary for negotiated formats), counted against the
 * same rate limits and metered alike; a change to the asset or its space takes effect on the very
 * next request. A query string sends a request through the router, which is how the routed
 * answer is had here for comparison.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { createSpace } from '../ingestion/ingest-client.js';
import type { AssetView } from '../ingestion/ingest-client.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  ACCEPT,
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  settle,
  upload,
  type Fetched,
} from './delivery-client.js';

/** Headers that differ between any two answers: the moment, the request, the time taken, the count. */
const PER_REQUEST = new Set([
  'date',
  'x-request-id',
  'server-timing',
  'ratelimit-remaining',
  'ratelimit-reset',
]);

function comparable(answer: Fetched): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!PER_REQUEST.has(name)) headers[name] = value;
  });
  headers['server-timing'] = (answer.headers.get('server-timing') ?? '').replace(/dur=[\d.]+/g, 'dur=*');
  return { status: answer.status, headers, body: answer.body.toString('base64') };
}

/**
 * GET with headers exactly as listed (names as written, repeats kept), as `fetch` cannot send
 * them: status, the headers asked for, and the body's length.
 */
function rawGet(
  url: string,
  headers: string[],
  body?: string,
): Promise<{ status: number; xCache: string | undefined; etag: string | undefined; bytes: number }> {
  return new Promise((resolve, reject) => {
    // a list of headers is sent as it is: Host too must be in it
    const list = ['Host', new URL(url).host, ...headers];
    const req = httpRequest(url, { method: 'GET', headers: list }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          xCache: res.headers['x-cache'] as string | undefined,
          etag: res.headers.etag,
          bytes,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Counts the answers given from memory, ahead of routing. */
function countMemoryAnswers(t: TestTessera): () => number {
  const spy = jest.spyOn(t.tessera.services.delivery, 'answerFromMemory');
  return () => spy.mock.results.filter((r) => r.type === 'return' && r.value !== undefined).length;
}

const suite = (cache: 'memory' | 'redis') => () => {
  let t: TestTessera;
  let photo: AssetView;
  let fromMemory: () => number;

  beforeAll(async () => {
    const env = { RATE_LIMIT_IMAGES_PER_MINUTE: '100000', JOBS_IN_PROCESS: 'true' };
    t = await startTestTessera(cache === 'redis' ? { storage: 's3', cache, env } : { env });
    photo = await upload(t, 'rocket.jpg');
    await settle(t);
    fromMemory = countMemoryAnswers(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('gives the routed answer exactly: GET, HEAD, 304, and the caller’s request id', async () => {
    const url = `${imageBase(t, photo)}w_320-fmt_webp.webp`;
    const rendered = await fetchImage(url);
    expect(rendered.headers.get('x-cache')).toBe('render');

    for (const [headers, method] of [
      [{}, 'GET'],
      [{}, 'HEAD'],
      [{ 'if-none-match': rendered.headers.get('etag')! }, 'GET'],
      [{ 'if-none-match': 'W/"other", ' + rendered.headers.get('etag')! }, 'HEAD'],
    ] as const) {
      const before = fromMemory();
      const routed = await fetchImage(`${url}?routed=1`, headers, method);
      expect(fromMemory()).toBe(before);
      const direct = await fetchImage(url, headers, method);
      expect(fromMemory()).toBe(before + 1);
      expect(comparable(direct)).toEqual(comparable(routed));
      expect(direct.headers.get('x-cache')).toBe('memory');
      expect(direct.status).toBe('if-none-match' in headers ? 304 : 200);
    }
    const own = await fetchImage(url, { 'x-request-id': 'front-end.42' });
    expect(own.headers.get('x-request-id')).toBe('front-end.42');
    const ids = new Set(
      await Promise.all([1, 2, 3].map(async () => (await fetchImage(url)).headers.get('x-request-id') ?? '')),
    );
    expect([...ids].every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(ids.size).toBe(3);
  });

  it('reads its headers whatever their case, and routes a request repeating one or with a body', async () => {
    const url = `${imageBase(t, photo)}w_310-fmt_webp.webp`;
    const first = await fetchImage(url);
    const etag = first.headers.get('etag')!;
    const length = first.body.length;
    const answered = async (headers: string[], body?: string) => {
      const before = fromMemory();
      const answer = await rawGet(url, headers, body);
      return { ...answer, fromMemory: fromMemory() - before };
    };
    // as written by any client: names in any case, a body of nothing announced
    expect(await answered(['IF-NONE-MATCH', etag, 'Accept', 'image/webp'])).toEqual({
      status: 304,
      xCache: 'memory',
      etag,
      bytes: 0,
      fromMemory: 1,
    });
    expect(await answered(['Content-Length', '0'])).toEqual({
      status: 200,
      xCache: 'memory',
      etag,
      bytes: length,
      fromMemory: 1,
    });
    // repeated headers (the router joins them) and announced bodies are the router's, answered alike
    for (const [headers, body] of [
      [['Accept', 'image/webp', 'accept', 'image/*'], undefined],
      [['If-None-Match', '"other"', 'if-none-match', etag], undefined],
      [['X-Request-Id', 'a', 'x-request-id', 'b'], undefined],
      [['Content-Length', '6'], 'a body'],
      [['Transfer-Encoding', 'chunked'], 'a body'],
    ] as const) {
      const answer = await answered([...headers], body);
      expect(answer.fromMemory).toBe(0);
      expect([answer.status, answer.etag]).toEqual(
        headers[0] === 'If-None-Match' ? [304, etag] : [200, etag],
      );
    }
  });

  it('negotiates fmt_auto per request, and never answers AVIF’s stand-in from memory', async () => {
    const url = `${imageBase(t, photo)}w_330-fmt_auto.jpg`;
    const webpOnly = 'image/webp,image/apng,image/*,*/*;q=0.8';
    for (const accept of [webpOnly, ACCEPT.any]) {
      await fetchImage(url, { accept });
      const routed = await fetchImage(`${url}?routed=1`, { accept });
      const before = fromMemory();
      const direct = await fetchImage(url, { accept });
      expect(fromMemory()).toBe(before + 1);
      expect(comparable(direct)).toEqual(comparable(routed));
      expect(direct.headers.get('vary')).toBe('Accept');
    }
    // The first AVIF browser: no AVIF yet, so a short-lived stand-in, from the router.
    const before = fromMemory();
    const standIn = await fetchImage(url, { accept: ACCEPT.chromium });
    expect(fromMemory()).toBe(before);
    expect(standIn.headers.get('content-type')).toBe('image/webp');
    expect(standIn.headers.get('cache-control')).not.toContain('immutable');
    await settle(t);
    const avif = await fetchImage(url, { accept: ACCEPT.chromium });
    expect([avif.headers.get('content-type'), avif.headers.get('cache-control')]).toEqual([
      'image/avif',
      'public, max-age=31536000, immutable',
    ]);
    const again = await fetchImage(url, { accept: ACCEPT.safari17 });
    // the AVIF the background job made is in memory: both came from there
    expect(fromMemory()).toBe(before + 2);
    const routed = await fetchImage(`${url}?routed=1`, { accept: ACCEPT.safari17 });
    expect(comparable(again)).toEqual(comparable(routed));
    expect((await fetchImage(url, { accept: webpOnly })).headers.get('content-type')).toBe('image/webp');
  });

  it('counts answers against the client’s limit and meters them as routed answers are', async () => {
    const space = await createSpace(t, 'Metered');
    const asset = await upload(t, 'rocket.jpg', { spaceId: space });
    const url = `${imageBase(t, asset, 'pub', 'metered')}w_200-fmt_jpg.jpg`;
    const first = await fetchImage(url);
    const metric = async () => {
      const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
      return Number(/^tessera_variant_answers_total\{layer="memory"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const usage = async () =>
      dataOf(
        await t.gql<{ space: { usage: { bytesServedToday: number } } }>(
          `query($id: ID!) { space(id: $id) { usage { bytesServedToday } } }`,
          { id: space },
        ),
      ).space.usage.bytesServedToday;
    const [memoryBefore, bytesBefore, answersBefore] = [await metric(), await usage(), fromMemory()];
    const remaining: number[] = [Number(first.headers.get('ratelimit-remaining'))];
    for (let i = 0; i < 5; i += 1) {
      const answer = await fetchImage(i % 2 === 0 ? url : `${url}?routed=${i}`);
      remaining.push(Number(answer.headers.get('ratelimit-remaining')));
    }
    expect(fromMemory() - answersBefore).toBe(3);
    // every answer, whichever way it was given, counts once against the client's limit
    expect(remaining.slice(1).map((r, i) => remaining[i]! - r)).toEqual([1, 1, 1, 1, 1]);
    expect((await metric()) - memoryBefore).toBe(5);
    expect((await usage()) - bytesBefore).toBe(5 * first.body.length);
  });

  it('times answers from memory in the request-duration histogram as routed ones', async () => {
    const asset = await upload(t, 'rocket.jpg');
    const url = `${imageBase(t, asset)}w_190-fmt_jpg.jpg`;
    await fetchImage(url);
    const samples = async () => {
      const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
      const image = text
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('tessera_http_request_duration_seconds') &&
            line.includes('method="GET"') &&
            line.includes('route="/v1/:access/:org/:tenant/:space/img/:assetId/:version/*"') &&
            line.includes('status="200"'),
        );
      const value = (suffix: string, le?: string) =>
        Number(
          image
            .find(
              (l) =>
                l.startsWith(`tessera_http_request_duration_seconds_${suffix}{`) &&
                (!le || l.includes(`le="${le}"`)),
            )
            ?.split(' ')
            .at(-1) ?? 0,
        );
      const buckets = image
        .filter((l) => l.startsWith('tessera_http_request_duration_seconds_bucket{'))
        .map((l) => Number(l.split(' ').at(-1)));
      return { count: value('count'), inf: value('bucket', '+Inf'), sum: value('sum'), buckets };
    };
    const before = await samples();
    const answersBefore = fromMemory();
    for (let i = 0; i < 4; i += 1) expect((await fetchImage(url)).status).toBe(200);
    expect(fromMemory() - answersBefore).toBe(4);
    const after = await samples();
    expect(after.count - before.count).toBe(4);
    expect(after.inf).toBe(after.count);
    expect(after.sum).toBeGreaterThan(before.sum);
    // cumulative buckets, one per bound and +Inf
    expect(after.buckets).toHaveLength(14);
    expect(after.buckets).toEqual([...after.buckets].sort((a, b) => a - b));
  });

  it('takes a change to the asset or its space into account on the very next request', async () => {
    const spaceId = await createSpace(t, 'Changing');
    const asset = await upload(t, 'rocket.jpg', { spaceId });
    const url = `${imageBase(t, asset, 'pub', 'changing')}w_210-fmt_webp.webp`;
    const warm = async () => {
      await fetchImage(url);
      const before = fromMemory();
      expect((await fetchImage(url)).status).toBe(200);
      expect(fromMemory()).toBe(before + 1);
    };
    const mutate = async (query: string, variables: Record<string, unknown>) =>
      expect((await t.gql(query, variables)).errors).toBeUndefined();

    await warm();
    await mutate(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
      {
        id: spaceId,
        input: { rateLimits: { imagesPerMinute: 2 } },
      },
    );
    expect((await fetchImage(url)).status).toBe(200);
    expect((await fetchImage(url)).status).toBe(200);
    await expectProblem(await fetchImage(url), 429, 'RATE_LIMITED');
    await mutate(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
      {
        id: spaceId,
        input: { rateLimits: { imagesPerMinute: null } },
      },
    );

    await warm();
    await mutate(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
      {
        id: spaceId,
        input: { transformPolicy: 'PRESETS' },
      },
    );
    await expectProblem(await fetchImage(url), 403, 'FORBIDDEN');
    await mutate(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
      {
        id: spaceId,
        input: { transformPolicy: 'ANY' },
      },
    );

    await warm();
    await mutate(`mutation($id: ID!, $q: QuotaInput!) { setSpaceQuota(spaceId: $id, quota: $q) { id } }`, {
      id: spaceId,
      q: { bytesServedPerDay: 1 },
    });
    await expectProblem(await fetchImage(url), 429, 'QUOTA_EXCEEDED');
    await mutate(`mutation($id: ID!, $q: QuotaInput!) { setSpaceQuota(spaceId: $id, quota: $q) { id } }`, {
      id: spaceId,
      q: { bytesServedPerDay: null },
    });

    await warm();
    await mutate(`mutation($id: ID!) { updateAsset(id: $id, input: { access: PRIVATE }) { id } }`, {
      id: asset.id,
    });
    await expectProblem(await fetchImage(url), 401, 'UNAUTHENTICATED');
    await mutate(`mutation($id: ID!) { updateAsset(id: $id, input: { access: PUBLIC }) { id } }`, {
      id: asset.id,
    });

    await warm();
    await mutate(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: asset.id });
    await expectProblem(await fetchImage(url), 404, 'NOT_FOUND');
  });
};

describeWith([], 'answers from memory (in-process cache)', suite('memory'));
describeWith(['redis', 's3'], 'answers from memory (Redis, S3)', suite('redis'));

describeWith([], 'answers from memory behind a proxy', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({ env: { TRUST_PROXY: 'true', RATE_LIMIT_IMAGES_PER_MINUTE: '100000' } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('counts each client by its forwarded address, as the router does', async () => {
    const photo = await upload(t, 'rocket.jpg');
    await settle(t);
    const fromMemory = countMemoryAnswers(t);
    const url = `${imageBase(t, photo)}w_150-fmt_jpg.jpg`;
    const remaining = async (client: string, routed: boolean) => {
      const answer = await fetchImage(routed ? `${url}?routed=1` : url, {
        'x-forwarded-for': `${client}, 10.0.0.1`,
      });
      expect(answer.status).toBe(200);
      return Number(answer.headers.get('ratelimit-remaining'));
    };
    const a = [await remaining('203.0.113.7', true)];
    for (const routed of [false, true, false]) a.push(await remaining('203.0.113.7', routed));
    // another client behind the same proxy has a count of its own
    const b = [await remaining('198.51.100.2', true), await remaining('198.51.100.2', false)];
    expect(fromMemory()).toBe(3);
    expect(a.slice(1).map((r, i) => a[i]! - r)).toEqual([1, 1, 1]);
    expect(b).toEqual([a[0], a[0]! - 1]);
  });
});
