/**
 * Cost controls: AVIF without the wait, width buckets per space, quotas per space and
 * organization — each checked the way a client or an operator would see it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sharp from 'sharp';
import { widthLadder } from '../../src/transforms/index.js';
import { fixture } from '../support/fixtures.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  ACCEPT,
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  rendersOf,
  settle,
  upload,
  urlOf,
  variantRows,
} from '../delivery/delivery-client.js';
import { createSpace, holdings, uploadAsset, type AssetView } from '../ingestion/ingest-client.js';

const LADDER = widthLadder();

describe('AVIF without the wait', () => {
  let t: TestTessera;
  let photo: AssetView;

  beforeAll(async () => {
    t = await startTestTessera();
    photo = await upload(t, 'picosdeeuropa_by_Aitzol_Berasategi.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => t?.close());

  it('answers an AVIF browser at once with a short-lived WebP, then with AVIF for good', async () => {
    const url = `${imageBase(t, photo)}w_1288-fmt_auto.jpg`;
    const before = rendersOf(t.tessera);
    const first = await fetchImage(url, { accept: ACCEPT.chromium });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    expect(first.headers.get('vary')).toBe('Accept');
    // The stand-in was the only render on the request path.
    expect(rendersOf(t.tessera) - before).toBe(1);
    await settle(t);
    const later = await fetchImage(url, { accept: ACCEPT.chromium });
    expect(later.headers.get('content-type')).toBe('image/avif');
    expect(later.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await sharp(later.body).metadata()).format).toBe('heif');
    expect((await variantRows(t, photo.id)).map((r) => r.canonical)).toEqual(
      expect.arrayContaining(['w_1288-fmt_avif', 'w_1288-fmt_webp']),
    );
  }, 60_000);

  it('renders an explicit fmt_avif at once', async () => {
    const answer = await fetchImage(`${imageBase(t, photo)}w_146-fmt_avif.avif`);
    expect(answer.headers.get('content-type')).toBe('image/avif');
    expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('never starts an AVIF render for a browser that does not take AVIF', async () => {
    const url = `${imageBase(t, photo)}w_746-fmt_auto.jpg`;
    for (const accept of ['image/webp,image/apng,image/*,*/*;q=0.8', '*/*']) {
      const answer = await fetchImage(url, { accept });
      expect(answer.headers.get('content-type')).not.toBe('image/avif');
      expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    await settle(t);
    expect((await variantRows(t, photo.id)).map((r) => r.canonical)).not.toContain('w_746-fmt_avif');
  });
});

describe('width buckets', () => {
  let t: TestTessera;
  let snapSpace: string;
  let refuseSpace: string;
  let inSnap: AssetView;
  let inRefuse: AssetView;

  const setPolicy = async (spaceId: string, policy: string, widths?: number[]) => {
    const res = await t.gql(
      `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { id } }`,
      {
        id: spaceId,
        input: { widthPolicy: policy, ...(widths ? { widths } : {}) },
      },
    );
    expect(res.errors).toBeUndefined();
  };

  beforeAll(async () => {
    t = await startTestTessera({ env: { JOBS_IN_PROCESS: 'false' } });
    snapSpace = await createSpace(t, 'Snapping');
    refuseSpace = await createSpace(t, 'Refusing');
    await setPolicy(snapSpace, 'SNAP');
    await setPolicy(refuseSpace, 'REFUSE');
    inSnap = await upload(t, 'rocket.jpg', { spaceId: snapSpace });
    inRefuse = await upload(t, 'rocket.jpg', { spaceId: refuseSpace });
  }, 120_000);
  afterAll(async () => t?.close());

  it('tells the ladder in GraphQL: 16 widths from 64 to 3840', async () => {
    const res = await t.gql<{ space: { widths: number[]; widthPolicy: string } }>(
      `query($id: ID!) { space(id: $id) { widths widthPolicy } }`,
      { id: snapSpace },
    );
    expect(res.data?.space).toEqual({ widths: LADDER, widthPolicy: 'SNAP' });
    expect(LADDER).toHaveLength(16);
    expect(LADDER[0]).toBe(64);
    expect(LADDER.at(-1)).toBe(3840);
  });

  it('snaps an off-ladder width up to the next bucket with a 301', async () => {
    const base = imageBase(t, inSnap, 'pub', 'snapping');
    const answer = await fetchImage(`${base}w_300-fmt_webp.webp`);
    expect(answer.status).toBe(301);
    expect(answer.headers.get('location')).toBe(`${base}w_330-fmt_webp.webp`);
    const onLadder = await fetchImage(`${base}w_330-fmt_webp.webp`);
    expect(onLadder.status).toBe(200);
    // a box keeps its shape
    const box = await fetchImage(`${base}w_300-h_200-f_cover-fmt_jpg.jpg`);
    expect(box.headers.get('location')).toBe(`${base}w_330-h_220-f_cover-fmt_jpg.jpg`);
  });

  it('refuses an off-ladder width where the space says so, naming it', async () => {
    const base = imageBase(t, inRefuse, 'pub', 'refusing');
    await expectProblem(await fetchImage(`${base}w_300-fmt_webp.webp`), 400, 'BAD_USER_INPUT');
    const answer = await fetchImage(`${base}w_300-fmt_webp.webp`);
    expect(JSON.parse(answer.body.toString()).token).toBe('w_300');
    expect((await fetchImage(`${base}w_330-fmt_webp.webp`)).status).toBe(200);
  });

  it('gives URLs and srcsets only on the ladder', async () => {
    const url = await urlOf(t, inSnap.id, { transform: { width: 300 } });
    expect(url).toMatch(/\/w_330-fmt_jpg\.jpg$/);
    const res = await t.gql<{ asset: { srcSet: { srcSet: string } } }>(
      `query($id: ID!) { asset(id: $id) { srcSet(widths: [100, 300, 310, 500]) { srcSet } } }`,
      { id: inSnap.id },
    );
    const widths = [...dataOf(res).asset.srcSet.srcSet.matchAll(/ (\d+)w/g)].map((m) => Number(m[1]));
    expect(widths.every((w) => LADDER.includes(w) || w === 640)).toBe(true);
    expect(widths).toEqual([110, 330, 568, 640]);
  });

  it('keeps the number of width variants per asset and format within the ladder under any stream of widths', async () => {
    const base = imageBase(t, inSnap, 'pub', 'snapping');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 40, maxLength: 40 }),
        async (widths) => {
          for (const w of widths) {
            const first = await fetchImage(`${base}w_${w}-fmt_webp.webp`);
            expect([200, 301]).toContain(first.status);
            if (first.status === 301)
              expect((await fetchImage(first.headers.get('location')!)).status).toBe(200);
          }
        },
      ),
      { numRuns: 3 },
    );
    const webp = (await variantRows(t, inSnap.id)).filter((r) => /^w_\d+-fmt_webp$/.test(r.canonical));
    expect(webp.length).toBeLessThanOrEqual(LADDER.length);
    for (const row of webp) expect(LADDER).toContain(Number(/^w_(\d+)/.exec(row.canonical)![1]));
  }, 120_000);
});

describe('quotas', () => {
  let t: TestTessera;

  const setSpaceQuota = (spaceId: string, quota: Record<string, number | null>) =>
    t.gql(`mutation($id: ID!, $q: QuotaInput!) { setSpaceQuota(spaceId: $id, quota: $q) { id } }`, {
      id: spaceId,
      q: quota,
    });
  const spaceUsage = async (spaceId: string) =>
    dataOf(
      await t.gql<{
        space: {
          usage: { storedBytes: number; originals: number; rendersToday: number; bytesServedToday: number };
          quota: Record<string, number | null>;
        };
      }>(
        `query($id: ID!) { space(id: $id) { usage { storedBytes originals rendersToday bytesServedToday } quota { storedBytes originals rendersPerDay bytesServedPerDay } } }`,
        { id: spaceId },
      ),
    ).space;

  beforeAll(async () => {
    t = await startTestTessera({ env: { JOBS_IN_PROCESS: 'false' } });
  }, 120_000);
  afterAll(async () => t?.close());

  it('refuses an upload past the storage quota before storing a byte, at the boundary exactly', async () => {
    const spaceId = await createSpace(t, 'Storage quota');
    const first = fixture('rocket.jpg');
    const second = fixture('coffee.png');
    await upload(t, 'rocket.jpg', { spaceId });
    expect((await spaceUsage(spaceId)).usage.storedBytes).toBe(first.length);
    // exactly enough room for the second file: accepted
    expect(
      (await setSpaceQuota(spaceId, { storedBytes: first.length + second.length })).errors,
    ).toBeUndefined();
    await upload(t, 'coffee.png', { spaceId });
    // one byte short for a third: refused, nothing stored
    const third = await sharp(fixture('chelsea.png')).png().toBuffer();
    const before = await holdings(t);
    const refused = await uploadAsset(t, { bytes: third, filename: 'c.png' }, { spaceId });
    expect(codes(refused)).toEqual(['QUOTA_EXCEEDED']);
    expect(await holdings(t)).toEqual(before);
    const view = await spaceUsage(spaceId);
    expect(view.quota.storedBytes).toBe(first.length + second.length);
    expect(view.usage).toMatchObject({ storedBytes: first.length + second.length, originals: 2 });
  });

  it('refuses the original past the originals quota', async () => {
    const spaceId = await createSpace(t, 'Originals quota');
    await setSpaceQuota(spaceId, { originals: 1 });
    await upload(t, 'rocket.jpg', { spaceId });
    expect(
      codes(await uploadAsset(t, { bytes: fixture('coffee.png'), filename: 'c.png' }, { spaceId })),
    ).toEqual(['QUOTA_EXCEEDED']);
    // the same bytes again are the same asset: no new original, no refusal
    expect(
      codes(await uploadAsset(t, { bytes: fixture('rocket.jpg'), filename: 'r.jpg' }, { spaceId })),
    ).toEqual([]);
  });

  it('answers 429 with Retry-After past the daily render quota while cached variants keep being served', async () => {
    const spaceId = await createSpace(t, 'Render quota');
    const slug = 'render-quota';
    const asset = await upload(t, 'rocket.jpg', { spaceId });
    await setSpaceQuota(spaceId, { rendersPerDay: 2 });
    const base = imageBase(t, asset, 'pub', slug);
    expect((await fetchImage(`${base}w_110-fmt_webp.webp`)).status).toBe(200);
    expect((await fetchImage(`${base}w_146-fmt_webp.webp`)).status).toBe(200);
    const third = await fetchImage(`${base}w_190-fmt_webp.webp`);
    await expectProblem(third, 429, 'QUOTA_EXCEEDED');
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const cached = await fetchImage(`${base}w_110-fmt_webp.webp`);
    expect(cached.status).toBe(200);
    expect((await spaceUsage(spaceId)).usage.rendersToday).toBe(2);
  });

  it('stops serving past the daily bytes-served quota', async () => {
    const spaceId = await createSpace(t, 'Bytes quota');
    const asset = await upload(t, 'rocket.jpg', { spaceId });
    const base = imageBase(t, asset, 'pub', 'bytes-quota');
    const once = await fetchImage(`${base}w_110-fmt_webp.webp`);
    const size = once.body.length;
    await setSpaceQuota(spaceId, { bytesServedPerDay: size * 3 });
    expect((await fetchImage(`${base}w_110-fmt_webp.webp`)).status).toBe(200);
    expect((await fetchImage(`${base}w_110-fmt_webp.webp`)).status).toBe(200);
    await expectProblem(await fetchImage(`${base}w_110-fmt_webp.webp`), 429, 'QUOTA_EXCEEDED');
  });

  it('applies an organization quota across its spaces, and shows quotas as Prometheus gauges', async () => {
    const a = await createSpace(t, 'Org quota A');
    const b = await createSpace(t, 'Org quota B');
    const res = await t.gql<{ viewer: { organization: { usage: { originals: number } } } }>(
      `{ viewer { organization { usage { originals } } } }`,
    );
    const already = dataOf(res).viewer.organization.usage.originals;
    expect(
      (
        await t.gql(`mutation($q: QuotaInput!) { setOrganizationQuota(quota: $q) { id } }`, {
          q: { originals: already + 1 },
        })
      ).errors,
    ).toBeUndefined();
    await upload(t, 'astronaut.png', { spaceId: a });
    expect(
      codes(await uploadAsset(t, { bytes: fixture('retina.jpg'), filename: 'r.jpg' }, { spaceId: b })),
    ).toEqual(['QUOTA_EXCEEDED']);
    await t.gql(`mutation($q: QuotaInput!) { setOrganizationQuota(quota: $q) { id } }`, {
      q: { originals: null },
    });
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^tessera_space_quota\{space="[^"]+",kind="rendersPerDay",measure="limit"\} 2$/m);
  });
});
