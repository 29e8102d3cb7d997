/**
 * Private images by signed URL: what GraphQL signs works; anything tampered with, expired,
 * missing or signed with a key that is not the organization's is refused; rotation keeps old URLs
 * valid for the grace period only. A space's transform policy: presets only, or ad-hoc transforms
 * only by signed URL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bootstrapOrganization } from '../../src/tenancy/bootstrap.js';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';
import { createSpace, type AssetView } from '../ingestion/ingest-client.js';
import {
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  imageInfo,
  rendersOf,
  settle,
  signerOf,
  signHere,
  slug,
  startSecondNode,
  upload,
  urlOf,
  type SecondNode,
} from './delivery-client.js';

const GRACE_SECONDS = 2;

/** The URL with one query parameter changed (or removed, for `null`). */
function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.href;
}

describeWith([], 'signed URLs', () => {
  let t: TestTessera;
  let secret: AssetView;
  let open: AssetView;

  beforeAll(async () => {
    t = await startTestTessera({ env: { SIGNING_KEY_GRACE_SECONDS: String(GRACE_SECONDS) } });
    [secret, open] = await Promise.all([
      upload(t, 'chelsea.png', { access: 'PRIVATE' }),
      upload(t, 'rocket.jpg'),
    ]);
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("a private asset's URLs from GraphQL are signed and work; its public URL is refused", async () => {
    for (const args of [
      {},
      { transform: { width: 200 } },
      { transform: { width: 200, format: 'WEBP' as const } },
    ]) {
      const url = await urlOf(t, secret.id, args);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/priv\/.*\?exp=\d+&kid=[0-9a-z]+&sig=[\w-]{43}$/);
      const answer = await fetchImage(url);
      expect(answer.status).toBe(200);
      const publicUrl = url.replace('/v1/priv/', '/v1/pub/').split('?')[0]!;
      expectProblem(await fetchImage(publicUrl), 401, 'UNAUTHENTICATED');
    }
    expectProblem(await fetchImage(`${imageBase(t, secret)}original.png`), 401, 'UNAUTHENTICATED');
  });

  it('a tampered signature, path or expiry is refused with 403, before any render', async () => {
    const url = await urlOf(t, secret.id, { transform: { width: 210 } });
    const sig = new URL(url).searchParams.get('sig')!;
    const exp = Number(new URL(url).searchParams.get('exp'));
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    const before = rendersOf(t.tessera);
    const forged = [
      withParam(url, 'sig', flipped),
      withParam(url, 'sig', `${sig}A`),
      withParam(url, 'sig', sig.slice(0, 42)),
      withParam(url, 'sig', ''),
      withParam(url, 'exp', String(exp + 1)),
      withParam(url, 'exp', String(exp + 86_400)),
      withParam(url, 'kid', 'zzzzzzzzzzzz'),
      withParam(url, 'kid', '../etc'),
      url.replace('/w_210-', '/w_211-'),
      url.replace('/w_210-fmt_png.png', '/original.png'),
      url.replace(secret.id, open.id),
    ];
    for (const bad of forged) {
      const answer = await fetchImage(bad);
      expect([bad, answer.status]).toEqual([bad, 403]);
      expectProblem(answer, 403, 'FORBIDDEN');
    }
    expect(rendersOf(t.tessera)).toBe(before);
    expect((await fetchImage(url)).status).toBe(200);
  });

  it('a missing or partial signature is refused with 401', async () => {
    const url = await urlOf(t, secret.id, { transform: { width: 220 } });
    const before = rendersOf(t.tessera);
    for (const bad of [
      url.split('?')[0]!,
      withParam(url, 'sig', null),
      withParam(url, 'kid', null),
      withParam(url, 'exp', null),
      withParam(url, 'exp', 'soon'),
    ]) {
      const answer = await fetchImage(bad);
      expect([bad, answer.status]).toEqual([bad, 401]);
      expectProblem(answer, 401, 'UNAUTHENTICATED');
    }
    expect(rendersOf(t.tessera)).toBe(before);
  });

  it('an expired URL is refused with 401 (a forged expired one with 403)', async () => {
    const signer = await signerOf(t, t.boot.organizationId);
    const past = Math.floor(Date.now() / 1000) - 5;
    const expired = signHere(t, secret, 'w_230-fmt_png.png', signer, past);
    const problem = expectProblem(await fetchImage(expired), 401, 'UNAUTHENTICATED');
    expect(problem.detail).toMatch(/expired/i);
    expectProblem(await fetchImage(withParam(expired, 'sig', 'A'.repeat(43))), 403, 'FORBIDDEN');

    // One that expires while in use: valid, then refused.
    const soon = signHere(t, secret, 'w_231-fmt_png.png', signer, Math.floor(Date.now() / 1000) + 1);
    const first = await fetchImage(soon);
    expect(first.status).toBe(200);
    expect(Number(/max-age=(\d+)/.exec(first.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 2100));
    expectProblem(await fetchImage(soon), 401, 'UNAUTHENTICATED');
  });

  it('expiresIn is honoured within bounds and refused outside them', async () => {
    const url = await urlOf(t, secret.id, { transform: { width: 240 }, expiresIn: 120 });
    const exp = Number(new URL(url).searchParams.get('exp'));
    const now = Math.floor(Date.now() / 1000);
    expect(exp).toBeGreaterThanOrEqual(now + 120);
    expect(exp).toBeLessThanOrEqual(now + 120 + 300);
    for (const expiresIn of [0, -1, 365 * 86_400]) {
      const res = await t.gql(`query($id: ID!, $e: Int) { asset(id: $id) { url(expiresIn: $e) } }`, {
        id: secret.id,
        e: expiresIn,
      });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it("a signature made with another organization's key is refused with 403", async () => {
    const other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: `Other ${slug('o')}`,
    });
    const theirs = await signerOf(t, other.organizationId);
    const ours = await signerOf(t, t.boot.organizationId);
    expect(theirs.kid).not.toBe(ours.kid);
    expect((await fetchImage(signHere(t, secret, 'w_250-fmt_png.png', ours))).status).toBe(200);
    expectProblem(await fetchImage(signHere(t, secret, 'w_250-fmt_png.png', theirs)), 403, 'FORBIDDEN');
    expectProblem(
      await fetchImage(signHere(t, secret, 'w_250-fmt_png.png', { kid: ours.kid, secret: theirs.secret })),
      403,
      'FORBIDDEN',
    );
  });

  it('an asset made private stops answering its public URLs at once; made public again, they work', async () => {
    const asset = await upload(t, 'coffee.png');
    const url = await urlOf(t, asset.id, { transform: { width: 150 } });
    expect((await fetchImage(url)).status).toBe(200);
    const setAccess = async (access: 'PUBLIC' | 'PRIVATE') =>
      dataOf(
        await t.gql(`mutation($id: ID!, $a: Access) { updateAsset(id: $id, input: { access: $a }) { id } }`, {
          id: asset.id,
          a: access,
        }),
      );
    await setAccess('PRIVATE');
    expectProblem(await fetchImage(url), 401, 'UNAUTHENTICATED');
    const signed = await urlOf(t, asset.id, { transform: { width: 150 } });
    expect(signed).toContain('/v1/priv/');
    expect((await fetchImage(signed)).status).toBe(200);
    await setAccess('PUBLIC');
    expect((await fetchImage(url)).status).toBe(200);
  });

  it('rotation: new URLs use the new key, old ones work for the grace period, then are refused with 403', async () => {
    const oldUrl = await urlOf(t, secret.id, { transform: { width: 260 } });
    const oldOriginal = await urlOf(t, secret.id);
    const oldKid = new URL(oldUrl).searchParams.get('kid');
    expect((await fetchImage(oldUrl)).status).toBe(200);

    const rotated = dataOf(
      await t.gql<{ rotateSigningKey: { kid: string; status: string } }>(
        `mutation { rotateSigningKey { kid status } }`,
      ),
    ).rotateSigningKey;
    const rotatedAt = Date.now();
    expect(rotated.status).toBe('ACTIVE');
    expect(rotated.kid).not.toBe(oldKid);
    const keys = dataOf(
      await t.gql<{ signingKeys: { kid: string; status: string; verifyUntil: string | null }[] }>(
        `{ signingKeys { kid status verifyUntil } }`,
      ),
    ).signingKeys;
    const retiring = keys.find((k) => k.kid === oldKid)!;
    expect(retiring.status).toBe('RETIRING');
    expect(Math.abs(Date.parse(retiring.verifyUntil!) - (rotatedAt + GRACE_SECONDS * 1000))).toBeLessThan(
      1500,
    );

    const newUrl = await urlOf(t, secret.id, { transform: { width: 260 } });
    expect(new URL(newUrl).searchParams.get('kid')).toBe(rotated.kid);
    for (const url of [oldUrl, oldOriginal, newUrl])
      expect([url, (await fetchImage(url)).status]).toEqual([url, 200]);

    await new Promise((r) => setTimeout(r, Math.max(0, rotatedAt + GRACE_SECONDS * 1000 + 300 - Date.now())));
    for (const url of [oldUrl, oldOriginal]) expectProblem(await fetchImage(url), 403, 'FORBIDDEN');
    expect((await fetchImage(newUrl)).status).toBe(200);
    expect((await fetchImage(await urlOf(t, secret.id, { transform: { width: 261 } }))).status).toBe(200);
  });
});

describeWith([], 'space transform policy', () => {
  let t: TestTessera;
  let spaceId: string;
  let spaceSlug: string;
  let photo: AssetView;
  let secret: AssetView;
  let presetSlug: string;

  const setPolicy = async (policy: 'ANY' | 'PRESETS' | 'SIGNED') => {
    const res = await t.gql<{ updateSpace: { transformPolicy: string } }>(
      `mutation($id: ID!, $p: TransformPolicy!) { updateSpace(id: $id, input: { transformPolicy: $p }) { transformPolicy } }`,
      { id: spaceId, p: policy },
    );
    expect(dataOf(res).updateSpace.transformPolicy).toBe(policy);
  };
  const base = (asset: AssetView, access: 'pub' | 'priv' = 'pub') => imageBase(t, asset, access, spaceSlug);

  beforeAll(async () => {
    t = await startTestTessera();
    spaceId = await createSpace(t, `Policy ${slug('s')}`);
    const space = dataOf(
      await t.gql<{ node: { slug: string } }>(`query($id: ID!) { node(id: $id) { ... on Space { slug } } }`, {
        id: spaceId,
      }),
    ).node;
    spaceSlug = space.slug;
    [photo, secret] = await Promise.all([
      upload(t, 'rocket.jpg', { spaceId }),
      upload(t, 'chelsea.png', { spaceId, access: 'PRIVATE' }),
    ]);
    presetSlug = slug('card');
    dataOf(
      await t.gql(`mutation($input: CreatePresetInput!) { createPreset(input: $input) { id } }`, {
        input: {
          spaceId,
          name: 'Card',
          slug: presetSlug,
          transform: { width: 200, height: 150, format: 'WEBP' },
        },
      }),
    );
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('ANY serves ad-hoc transforms by public URL', async () => {
    await setPolicy('ANY');
    expect((await fetchImage(`${base(photo)}w_300-fmt_jpg.jpg`)).status).toBe(200);
  });

  describe('PRESETS', () => {
    beforeAll(async () => {
      await setPolicy('PRESETS');
    });

    it('refuses ad-hoc transforms at once with 403, even one served a moment ago, and renders nothing', async () => {
      const before = rendersOf(t.tessera);
      for (const file of ['w_300-fmt_jpg.jpg', 'w_301-fmt_jpg.jpg', 'bw-fmt_jpg.jpg']) {
        const problem = expectProblem(await fetchImage(`${base(photo)}${file}`), 403, 'FORBIDDEN');
        expect(problem.detail).toMatch(/preset/i);
      }
      const signed = signHere(
        t,
        secret,
        'w_120-fmt_png.png',
        await signerOf(t, t.boot.organizationId),
        undefined,
        spaceSlug,
      );
      expectProblem(await fetchImage(signed), 403, 'FORBIDDEN');
      expect(rendersOf(t.tessera)).toBe(before);
    });

    it('serves presets and originals, public and signed', async () => {
      const answer = await fetchImage(`${base(photo)}preset_${presetSlug}.webp`);
      expect(answer.status).toBe(200);
      expect(await imageInfo(answer.body)).toMatchObject({ format: 'webp', width: 200, height: 150 });
      expect((await fetchImage(`${base(photo)}original.jpg`)).status).toBe(200);
      for (const url of [
        await urlOf(t, secret.id, { preset: presetSlug }),
        await urlOf(t, secret.id),
        await urlOf(t, photo.id, { preset: presetSlug }),
      ]) {
        expect([url, (await fetchImage(url)).status]).toEqual([url, 200]);
      }
    });

    it('GraphQL gives no URL the space would refuse: ad-hoc transforms are FORBIDDEN, srcsets hold the preset only', async () => {
      for (const field of [
        'url(transform: { width: 300 })',
        'image(transform: { width: 300 }) { url }',
        'srcSet(transform: { width: 300 }) { src }',
      ]) {
        const res = await t.gql(`query($id: ID!) { asset(id: $id) { ${field} } }`, { id: photo.id });
        expect([field, codes(res)]).toEqual([field, ['FORBIDDEN']]);
      }
      const original = dataOf(
        await t.gql<{ asset: { srcSet: { srcSet: string } } }>(
          `query($id: ID!) { asset(id: $id) { srcSet(widths: [100, 200]) { srcSet } } }`,
          { id: photo.id },
        ),
      );
      expect(original.asset.srcSet.srcSet).toBe(`${base(photo)}original.jpg 640w`);
      const res = await t.gql<{
        asset: {
          image: { url: string; srcSet: string };
          srcSet: { src: string; srcSet: string; webpSrcSet: string | null };
        };
      }>(
        `query($id: ID!, $p: String) { asset(id: $id) { image(preset: $p) { url srcSet } srcSet(preset: $p) { src srcSet webpSrcSet } } }`,
        { id: photo.id, p: presetSlug },
      );
      const { image, srcSet } = dataOf(res).asset;
      const presetUrl = `${base(photo)}preset_${presetSlug}.webp`;
      expect(image).toEqual({ url: presetUrl, srcSet: `${presetUrl} 200w` });
      expect(srcSet).toEqual({ src: presetUrl, srcSet: `${presetUrl} 200w`, webpSrcSet: null });
    });

    it("the URL of a preset's variant, as GraphQL lists it, is one the space serves", async () => {
      const res = await t.gql<{
        asset: { variants: { edges: { node: { canonical: string; url: string } }[] } };
      }>(`query($id: ID!) { asset(id: $id) { variants(first: 10) { edges { node { canonical url } } } } }`, {
        id: photo.id,
      });
      const nodes = dataOf(res).asset.variants.edges.map((e) => e.node);
      const preset = nodes.find((n) => n.canonical === 'w_200-h_150-f_cover-fmt_webp');
      expect(preset?.url).toBe(`${base(photo)}preset_${presetSlug}.webp`);
      const answer = await fetchImage(preset!.url);
      expect([preset!.url, answer.status]).toEqual([preset!.url, 200]);
    });
  });

  describe('SIGNED', () => {
    beforeAll(async () => {
      await setPolicy('SIGNED');
    });

    it('refuses unsigned ad-hoc transforms with 403; serves presets and originals publicly', async () => {
      expectProblem(await fetchImage(`${base(photo)}w_300-fmt_jpg.jpg`), 403, 'FORBIDDEN');
      expect((await fetchImage(`${base(photo)}preset_${presetSlug}.webp`)).status).toBe(200);
      expect((await fetchImage(`${base(photo)}original.jpg`)).status).toBe(200);
    });

    it('GraphQL signs ad-hoc transforms of public assets, and those URLs work; presets and originals stay public', async () => {
      const adHoc = await urlOf(t, photo.id, { transform: { width: 310 } });
      expect(adHoc).toMatch(/\/v1\/priv\/.*\/w_310-fmt_jpg\.jpg\?exp=\d+&kid=\w+&sig=[\w-]{43}$/);
      const answer = await fetchImage(adHoc);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      expect(await imageInfo(answer.body)).toMatchObject({ width: 310 });
      expectProblem(await fetchImage(withParam(adHoc, 'sig', 'A'.repeat(43))), 403, 'FORBIDDEN');
      expect(await urlOf(t, photo.id, { preset: presetSlug })).toBe(
        `${base(photo)}preset_${presetSlug}.webp`,
      );
      expect(await urlOf(t, photo.id)).toBe(`${base(photo)}original.jpg`);
    });
  });

  it('back to ANY: the public ad-hoc URL works again', async () => {
    await setPolicy('ANY');
    expect((await fetchImage(`${base(photo)}w_300-fmt_jpg.jpg`)).status).toBe(200);
  });

  it('a new space slug moves every URL at once: the old ones answer 404, GraphQL gives the new ones', async () => {
    const old = `${base(photo)}w_300-fmt_jpg.jpg`;
    const renamed = slug('renamed');
    dataOf(
      await t.gql(`mutation($id: ID!, $s: String) { updateSpace(id: $id, input: { slug: $s }) { slug } }`, {
        id: spaceId,
        s: renamed,
      }),
    );
    expectProblem(await fetchImage(old), 404, 'NOT_FOUND');
    const url = await urlOf(t, photo.id, { transform: { width: 300 } });
    expect(url).toBe(old.replace(`/${spaceSlug}/`, `/${renamed}/`));
    expect((await fetchImage(url)).status).toBe(200);
    spaceSlug = renamed;
  });
});

describeWith(['redis', 's3'], 'signing key rotation seen by two nodes', () => {
  let t: TestTessera;
  let second: SecondNode;
  let secret: AssetView;

  beforeAll(async () => {
    const env = { SIGNING_KEY_GRACE_SECONDS: String(GRACE_SECONDS), JOBS_IN_PROCESS: 'true' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    secret = await upload(t, 'chelsea.png', { access: 'PRIVATE' });
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('a key rotated through one node stops verifying on the other when its grace period ends', async () => {
    const old = await urlOf(t, secret.id, { transform: { width: 140 } });
    // Both nodes have verified (and may remember) the old key.
    expect((await fetchImage(old)).status).toBe(200);
    expect((await fetchImage(second.here(old))).status).toBe(200);
    dataOf(await t.gql(`mutation { rotateSigningKey { kid } }`));
    const rotatedAt = Date.now();
    expect((await fetchImage(second.here(old))).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, rotatedAt + GRACE_SECONDS * 1000 + 300 - Date.now())));
    expectProblem(await fetchImage(old), 403, 'FORBIDDEN');
    expectProblem(await fetchImage(second.here(old)), 403, 'FORBIDDEN');
    // URLs either node gives now are signed with a key that verifies.
    for (const url of [
      await urlOf(t, secret.id, { transform: { width: 141 } }),
      second.here(await urlOf(t, secret.id, { transform: { width: 142 } })),
    ]) {
      expect([url, (await fetchImage(url)).status]).toEqual([url, 200]);
    }
  });
});
