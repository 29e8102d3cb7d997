/**
 * Presets: created, listed, edited and deleted through GraphQL, per space and organization-wide
 * (inherited, a space's own preset of the same slug winning); served as `preset_{slug}` URLs and
 * `url(preset:)`; an edit changes the canonical string and what the same URL serves, at once, on
 * this node and on another.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import { createSpace, type AssetView } from '../ingestion/ingest-client.js';
import {
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  imageInfo,
  rendersOf,
  settle,
  slug,
  startSecondNode,
  transformAsset,
  upload,
  urlOf,
  type SecondNode,
} from './delivery-client.js';

interface PresetView {
  id: string;
  slug: string;
  name: string;
  canonical: string;
  organizationWide: boolean;
  transform: Record<string, unknown>;
}

const PRESET_FIELDS = 'id slug name canonical organizationWide transform { width height fit format }';

function createPreset(
  t: TestTessera,
  input: Record<string, unknown>,
): Promise<GraphQLResponse<{ createPreset: PresetView }>> {
  return t.gql(`mutation($input: CreatePresetInput!) { createPreset(input: $input) { ${PRESET_FIELDS} } }`, {
    input,
  });
}

function updatePreset(
  t: TestTessera,
  id: string,
  input: Record<string, unknown>,
): Promise<GraphQLResponse<{ updatePreset: PresetView }>> {
  return t.gql(
    `mutation($id: ID!, $input: UpdatePresetInput!) { updatePreset(id: $id, input: $input) { ${PRESET_FIELDS} } }`,
    { id, input },
  );
}

async function spaceSlugOf(t: TestTessera, spaceId: string): Promise<string> {
  return dataOf(
    await t.gql<{ node: { slug: string } }>(`query($id: ID!) { node(id: $id) { ... on Space { slug } } }`, {
      id: spaceId,
    }),
  ).node.slug;
}

describeWith([], 'presets', () => {
  let t: TestTessera;
  let rocket: AssetView;
  let secret: AssetView;
  let other: { id: string; slug: string; photo: AssetView };

  beforeAll(async () => {
    t = await startTestTessera();
    const otherId = await createSpace(t, `Other ${slug('s')}`);
    const [a, b, c] = await Promise.all([
      upload(t, 'rocket.jpg'),
      upload(t, 'chelsea.png', { access: 'PRIVATE' }),
      upload(t, 'rocket.jpg', { spaceId: otherId }),
    ]);
    [rocket, secret] = [a, b];
    other = { id: otherId, slug: await spaceSlugOf(t, otherId), photo: c };
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a space preset: canonical stored, listed, served as preset_{slug} and url(preset:), public and signed', async () => {
    const s = slug('card');
    const preset = dataOf(
      await createPreset(t, {
        spaceId: t.boot.spaceId,
        name: 'Card',
        slug: s,
        transform: { height: 200, width: 250, format: 'WEBP', quality: 80 },
      }),
    ).createPreset;
    expect(preset).toMatchObject({
      slug: s,
      canonical: 'w_250-h_200-f_cover-q_80-fmt_webp',
      organizationWide: false,
    });
    expect(preset.transform).toEqual({ width: 250, height: 200, fit: 'COVER', format: 'WEBP' });
    const listed = dataOf(
      await t.gql<{ presets: { slug: string }[] }>(`query($id: ID!) { presets(spaceId: $id) { slug } }`, {
        id: t.boot.spaceId,
      }),
    ).presets;
    expect(listed.map((p) => p.slug)).toContain(s);

    const url = await urlOf(t, rocket.id, { preset: s });
    expect(url).toBe(`${imageBase(t, rocket)}preset_${s}.webp`);
    const answer = await fetchImage(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/webp');
    expect(await imageInfo(answer.body)).toMatchObject({ format: 'webp', width: 250, height: 200 });
    // Another extension is not this preset's: 301 to the canonical one.
    const typed = await fetchImage(`${imageBase(t, rocket)}preset_${s}.jpg`);
    expect([typed.status, typed.headers.get('location')]).toEqual([301, url]);

    const signed = await urlOf(t, secret.id, { preset: s });
    expect(signed).toMatch(new RegExp(`/v1/priv/.*/preset_${s}\\.webp\\?exp=\\d+&kid=\\w+&sig=[\\w-]{43}$`));
    expect(await imageInfo((await fetchImage(signed)).body)).toMatchObject({
      format: 'webp',
      width: 250,
      height: 200,
    });
  });

  it('a preset without a format takes the extension; transformAsset(preset:) makes the variant the URL then serves', async () => {
    const s = slug('thumb');
    dataOf(
      await createPreset(t, { spaceId: t.boot.spaceId, name: 'Thumb', slug: s, transform: { width: 120 } }),
    );
    expect(await urlOf(t, rocket.id, { preset: s })).toBe(`${imageBase(t, rocket)}preset_${s}.jpg`);
    const before = rendersOf(t.tessera);
    const variant = dataOf(await transformAsset(t, rocket.id, { preset: s })).transformAsset;
    expect(variant).toMatchObject({ canonical: 'w_120-fmt_jpg', width: 120, height: 80, format: 'jpg' });
    const jpg = await fetchImage(`${imageBase(t, rocket)}preset_${s}.jpg`);
    expect([jpg.status, jpg.headers.get('x-cache')]).toEqual([200, 'memory']);
    expect(rendersOf(t.tessera) - before).toBe(1);
    for (const [ext, format] of [
      ['png', 'png'],
      ['webp', 'webp'],
      ['avif', 'heif'],
    ] as const) {
      const answer = await fetchImage(`${imageBase(t, rocket)}preset_${s}.${ext}`);
      expect([ext, answer.status]).toEqual([ext, 200]);
      expect(await imageInfo(answer.body)).toMatchObject({ format, width: 120 });
    }
  });

  it('an organization-wide preset is inherited by every space; a space preset of the same slug wins there', async () => {
    const s = slug('hero');
    const orgWide = dataOf(
      await createPreset(t, { name: 'Hero', slug: s, transform: { width: 300, format: 'PNG' } }),
    ).createPreset;
    expect(orgWide.organizationWide).toBe(true);
    for (const [asset, space] of [
      [rocket, t.boot.space],
      [other.photo, other.slug],
    ] as const) {
      const url = await urlOf(t, asset.id, { preset: s });
      expect(url).toBe(`${imageBase(t, asset, 'pub', space)}preset_${s}.png`);
      expect(await imageInfo((await fetchImage(url)).body)).toMatchObject({ format: 'png', width: 300 });
    }
    const own = dataOf(
      await createPreset(t, {
        spaceId: other.id,
        name: 'Hero here',
        slug: s,
        transform: { width: 90, format: 'JPG' },
      }),
    ).createPreset;
    const url = await urlOf(t, other.photo.id, { preset: s });
    expect(url).toBe(`${imageBase(t, other.photo, 'pub', other.slug)}preset_${s}.jpg`);
    expect(await imageInfo((await fetchImage(url)).body)).toMatchObject({ format: 'jpeg', width: 90 });
    // The space's own preset hides the organization's in that space's list, not in the first one.
    const list = async (spaceId: string) =>
      dataOf(
        await t.gql<{ presets: { id: string; slug: string }[] }>(
          `query($id: ID!) { presets(spaceId: $id) { id slug } }`,
          { id: spaceId },
        ),
      ).presets.filter((p) => p.slug === s);
    expect(await list(other.id)).toEqual([{ id: own.id, slug: s }]);
    expect(await list(t.boot.spaceId)).toEqual([{ id: orgWide.id, slug: s }]);
    // The first space still gets the organization's.
    expect(await imageInfo((await fetchImage(`${imageBase(t, rocket)}preset_${s}.png`)).body)).toMatchObject({
      width: 300,
    });
    // Deleting the space's own brings the organization's back there.
    dataOf(await t.gql(`mutation($id: ID!) { deletePreset(id: $id) }`, { id: own.id }));
    expect(await urlOf(t, other.photo.id, { preset: s })).toBe(
      `${imageBase(t, other.photo, 'pub', other.slug)}preset_${s}.png`,
    );
    const back = await fetchImage(`${imageBase(t, other.photo, 'pub', other.slug)}preset_${s}.png`);
    expect(await imageInfo(back.body)).toMatchObject({ format: 'png', width: 300 });
  });

  it('editing the transform changes the canonical string, and the same URL serves the new output at once', async () => {
    const s = slug('banner');
    const created = dataOf(
      await createPreset(t, {
        spaceId: t.boot.spaceId,
        name: 'Banner',
        slug: s,
        transform: { width: 400, height: 100, format: 'WEBP' },
      }),
    ).createPreset;
    const url = await urlOf(t, rocket.id, { preset: s });
    const first = await fetchImage(url);
    expect(await imageInfo(first.body)).toMatchObject({ width: 400, height: 100 });
    expect((await fetchImage(url)).headers.get('x-cache')).toBe('memory');

    const edited = dataOf(
      await updatePreset(t, created.id, { transform: { width: 200, height: 200, format: 'WEBP' } }),
    ).updatePreset;
    expect(edited.canonical).toBe('w_200-h_200-f_cover-fmt_webp');
    expect(edited.canonical).not.toBe(created.canonical);
    expect(await urlOf(t, rocket.id, { preset: s })).toBe(url);
    const after = await fetchImage(url);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-cache')).toBe('render');
    expect(after.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect(await imageInfo(after.body)).toMatchObject({ format: 'webp', width: 200, height: 200 });
    const image = dataOf(
      await t.gql<{ asset: { image: { width: number; height: number } } }>(
        `query($id: ID!, $p: String) { asset(id: $id) { image(preset: $p) { width height } } }`,
        { id: rocket.id, p: s },
      ),
    ).asset.image;
    expect(image).toEqual({ width: 200, height: 200 });

    // A new format moves the URL; the old one redirects to it.
    dataOf(await updatePreset(t, created.id, { transform: { width: 200, height: 200, format: 'AVIF' } }));
    const moved = await urlOf(t, rocket.id, { preset: s });
    expect(moved).toBe(`${imageBase(t, rocket)}preset_${s}.avif`);
    const old = await fetchImage(url);
    expect([old.status, old.headers.get('location')]).toEqual([301, moved]);
  });

  it('a deleted preset is unknown at once, to URLs and to GraphQL', async () => {
    const s = slug('gone');
    const created = dataOf(
      await createPreset(t, { spaceId: t.boot.spaceId, name: 'Gone', slug: s, transform: { width: 64 } }),
    ).createPreset;
    const url = await urlOf(t, rocket.id, { preset: s });
    expect((await fetchImage(url)).status).toBe(200);
    expect(
      dataOf(
        await t.gql<{ deletePreset: boolean }>(`mutation($id: ID!) { deletePreset(id: $id) }`, {
          id: created.id,
        }),
      ).deletePreset,
    ).toBe(true);
    const before = rendersOf(t.tessera);
    expect(expectProblem(await fetchImage(url), 400, 'BAD_USER_INPUT').token).toBe(`preset_${s}`);
    expect(
      codes(
        await t.gql(`query($id: ID!, $p: String) { asset(id: $id) { url(preset: $p) } }`, {
          id: rocket.id,
          p: s,
        }),
      ),
    ).toEqual(['BAD_USER_INPUT']);
    expect(codes(await transformAsset(t, rocket.id, { preset: s }))).toEqual(['BAD_USER_INPUT']);
    expect(rendersOf(t.tessera)).toBe(before);
  });

  it('refuses bad presets: slug, empty or invalid transform, a taken slug', async () => {
    const s = slug('taken');
    dataOf(
      await createPreset(t, { spaceId: t.boot.spaceId, name: 'Taken', slug: s, transform: { width: 10 } }),
    );
    const bad: [Record<string, unknown>, string][] = [
      [
        { spaceId: t.boot.spaceId, name: 'Bad', slug: 'Not A Slug', transform: { width: 10 } },
        'BAD_USER_INPUT',
      ],
      [{ spaceId: t.boot.spaceId, name: 'Bad', slug: slug('x'), transform: {} }, 'BAD_USER_INPUT'],
      [{ spaceId: t.boot.spaceId, name: 'Bad', slug: slug('x'), transform: { width: 0 } }, 'BAD_USER_INPUT'],
      [
        { spaceId: t.boot.spaceId, name: 'Bad', slug: slug('x'), transform: { quality: 500 } },
        'BAD_USER_INPUT',
      ],
      [{ spaceId: t.boot.spaceId, name: 'Bad', slug: s, transform: { width: 10 } }, 'CONFLICT'],
    ];
    for (const [input, code] of bad)
      expect([input, codes(await createPreset(t, input))]).toEqual([input, [code]]);
  });
});

describeWith(['redis', 's3'], 'presets on two nodes', () => {
  let t: TestTessera;
  let second: SecondNode;
  let rocket: AssetView;

  beforeAll(async () => {
    const env = { JOBS_IN_PROCESS: 'true' };
    t = await startTestTessera({ storage: 's3', cache: 'redis', env });
    second = await startSecondNode(t, env);
    rocket = await upload(t, 'rocket.jpg');
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('a preset edited through one node: the other serves the new output at once', async () => {
    const s = slug('edit');
    const created = dataOf(
      await createPreset(t, { spaceId: t.boot.spaceId, name: 'Edit', slug: s, transform: { width: 150 } }),
    ).createPreset;
    const url = second.here(await urlOf(t, rocket.id, { preset: s }));
    expect(await imageInfo((await fetchImage(url)).body)).toMatchObject({ width: 150 });
    dataOf(await updatePreset(t, created.id, { transform: { width: 170 } }));
    expect(await imageInfo((await fetchImage(url)).body)).toMatchObject({ width: 170 });
    dataOf(await t.gql(`mutation($id: ID!) { deletePreset(id: $id) }`, { id: created.id }));
    expectProblem(await fetchImage(url), 400, 'BAD_USER_INPUT');
  });
});
