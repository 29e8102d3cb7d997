/**
 * A photograph enters by each of the three ways (GraphQL upload, presigned direct upload, import
 * from a URL) on local disk and on S3, and comes out as the same Asset; dedup by content per
 * space; `completeUpload` is idempotent and checks what it is given.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { bootstrapOrganization, type BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { fixture } from '../support/fixtures.js';
import { textFile } from '../support/hostile-files.js';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  completeUpload,
  createSpace,
  createUpload,
  directUpload,
  holdings,
  JOBS_OFF,
  importAsset,
  loopbackServer,
  originalsOf,
  postForm,
  rowId,
  sha256,
  staticFiles,
  uploadAsset,
  uploadRow,
  type AssetView,
  type FilePart,
  type LoopbackServer,
} from './ingest-client.js';

const rocket: FilePart & { type: string } = {
  bytes: fixture('rocket.jpg'),
  filename: 'rocket.jpg',
  type: 'image/jpeg',
};
const hubble: FilePart & { type: string } = {
  bytes: fixture('hubble_deep_field.jpg'),
  filename: 'hubble_deep_field.jpg',
  type: 'image/jpeg',
};

type WayIn = (t: TestTessera, file: FilePart & { type: string }, spaceId: string) => Promise<AssetView>;

function unwrap<T>(res: { data?: T | null; errors?: unknown }): T {
  if (!res.data) throw new Error(`unexpected errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

/** Checks the placeholder is a real, decodable tiny image of the photograph's shape. */
async function expectReadablePlaceholder(asset: AssetView): Promise<void> {
  const { dataUri, width, height, blurhash, thumbhash, dominantColor } = asset.placeholder;
  const match = /^data:image\/(webp|png|jpeg);base64,([A-Za-z0-9+/=]+)$/.exec(dataUri);
  expect(match).not.toBeNull();
  const meta = await sharp(Buffer.from(match![2]!, 'base64')).metadata();
  expect(meta.format).toBe(match![1]);
  expect([meta.width, meta.height]).toEqual([width, height]);
  expect(Math.abs(width / height - asset.width / asset.height)).toBeLessThan(0.15);
  expect(blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/);
  expect(Buffer.from(thumbhash, 'base64').length).toBeGreaterThan(4);
  expect(dominantColor).toMatch(/^#[0-9a-f]{6}$/);
}

function waysIn(storage: 'local' | 's3'): void {
  let t: TestTessera;
  let files: LoopbackServer;
  let other: BootstrapResult;

  beforeAll(async () => {
    t = await startTestTessera({ storage, env: { ...JOBS_OFF, IMPORT_ALLOW_NETWORKS: '127.0.0.1/32' } });
    files = await loopbackServer(
      staticFiles({
        '/photos/rocket.jpg': { body: rocket.bytes, type: 'image/jpeg' },
        '/photos/hubble_deep_field.jpg': { body: hubble.bytes, type: 'image/jpeg; charset=binary' },
      }),
    );
    other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Other',
    });
  }, 120_000);
  afterAll(async () => {
    await files?.close();
    await t?.close();
  });

  const ways: Record<string, WayIn> = {
    'a GraphQL upload': async (tt, file, spaceId) =>
      unwrap(await uploadAsset(tt, file, { spaceId })).uploadAsset,
    'a presigned direct upload': async (tt, file, spaceId) => {
      const { post, completed } = await directUpload(tt, file, { spaceId });
      expect(post.status).toBeGreaterThanOrEqual(200);
      expect(post.status).toBeLessThan(300);
      return unwrap(completed).completeUpload;
    },
    'an import from a URL': async (tt, file, spaceId) =>
      unwrap(await importAsset(tt, `${files.origin}/photos/${file.filename}`, { spaceId })).importAsset,
  };

  it.each(Object.keys(ways))(
    '%s turns rocket.jpg and hubble_deep_field.jpg into assets with dimensions, hash, EXIF and placeholder',
    async (way) => {
      const spaceId = await createSpace(t, `Via ${way}`);
      const enter = ways[way]!;

      const a = await enter(t, rocket, spaceId);
      expect(a).toMatchObject({
        version: 1,
        filename: 'rocket.jpg',
        mimeType: 'image/jpeg',
        format: 'jpeg',
        width: 640,
        height: 427,
        bytes: rocket.bytes.length,
        sha256: sha256(rocket.bytes),
        hasAlpha: false,
        animated: false,
        frames: 1,
        orientation: 1,
        space: { id: spaceId },
      });
      expect(a.id).toMatch(/^ast_[0-9a-f]{32}$/);
      await expectReadablePlaceholder(a);

      const h = await enter(t, hubble, spaceId);
      expect(h).toMatchObject({
        format: 'jpeg',
        width: 1000,
        height: 872,
        sha256: sha256(hubble.bytes),
        bytes: hubble.bytes.length,
      });
      expect(h.exif).toMatchObject({
        Image: { Software: 'Adobe Photoshop CS5 Macintosh', XResolution: 300 },
        Photo: { PixelXDimension: 1000, PixelYDimension: 872 },
      });
      await expectReadablePlaceholder(h);

      // Exactly one original per asset, holding the very bytes; no staged upload left behind.
      const { assets, objects } = await holdings(t);
      const mine = assets.filter((row) => row.space_id === rowId(spaceId));
      expect(mine.map((row) => row.id).sort()).toEqual([rowId(a.id), rowId(h.id)].sort());
      expect(originalsOf(objects, spaceId)).toEqual(mine.map((row) => row.storage_key).sort());
      expect(objects.filter((key) => key.startsWith('uploads/'))).toEqual([]);
      for (const row of mine)
        expect(sha256(await t.tessera.store.readBuffer(row.storage_key))).toBe(row.sha256);

      // Read back through the query, the same asset.
      const again = await t.gql<{ asset: AssetView }>(
        `query($id: ID!) { asset(id: $id) { id sha256 width height exif } }`,
        { id: h.id },
      );
      expect(again.data?.asset).toEqual({
        id: h.id,
        sha256: h.sha256,
        width: 1000,
        height: 872,
        exif: h.exif,
      });
    },
  );

  it('keeps one asset and one object for the same bytes in a space, whichever way they come; another space gets its own', async () => {
    const spaceA = await createSpace(t, 'Dedup A');
    const spaceB = await createSpace(t, 'Dedup B');
    const first = await ways['a GraphQL upload']!(t, rocket, spaceA);
    const second = await ways['a GraphQL upload']!(t, { ...rocket, filename: 'renamed.jpg' }, spaceA);
    const viaUpload = await ways['a presigned direct upload']!(t, rocket, spaceA);
    const viaImport = await ways['an import from a URL']!(t, rocket, spaceA);
    expect([second.id, viaUpload.id, viaImport.id]).toEqual([first.id, first.id, first.id]);
    expect(second.filename).toBe('rocket.jpg');

    const elsewhere = await ways['a GraphQL upload']!(t, rocket, spaceB);
    expect(elsewhere.id).not.toBe(first.id);
    expect(elsewhere.sha256).toBe(first.sha256);

    const { assets, objects } = await holdings(t);
    expect(assets.filter((row) => row.space_id === rowId(spaceA)).map((row) => row.id)).toEqual([
      rowId(first.id),
    ]);
    expect(assets.filter((row) => row.space_id === rowId(spaceB)).map((row) => row.id)).toEqual([
      rowId(elsewhere.id),
    ]);
    expect(originalsOf(objects, spaceA)).toHaveLength(1);
    expect(originalsOf(objects, spaceB)).toHaveLength(1);
    expect(objects.filter((key) => key.startsWith('uploads/'))).toEqual([]);
  });

  it('completes a direct upload once: completing it three times at once, then again, gives the same asset', async () => {
    const spaceId = await createSpace(t, 'Idempotent');
    const created = unwrap(
      await createUpload(t, {
        filename: hubble.filename,
        contentType: hubble.type,
        bytes: hubble.bytes.length,
        spaceId,
      }),
    ).createUpload;
    const uploadId = created.uploadId;
    expect((await postForm(created.url, created.fields, hubble)).status).toBeLessThan(300);
    const racing = await Promise.all([
      completeUpload(t, uploadId),
      completeUpload(t, uploadId),
      completeUpload(t, uploadId),
    ]);
    expect(racing.map((res) => res.errors)).toEqual([undefined, undefined, undefined]);
    const first = racing[0]!.data!.completeUpload;
    expect(racing.map((res) => res.data?.completeUpload.id)).toEqual([first.id, first.id, first.id]);
    const again = await completeUpload(t, uploadId);
    expect(again.errors).toBeUndefined();
    expect(again.data?.completeUpload.id).toBe(first.id);
    expect((await uploadRow(t, rowId(uploadId))).status).toBe('completed');
    const { assets } = await holdings(t);
    expect(assets.filter((row) => row.space_id === rowId(spaceId))).toHaveLength(1);
  });

  it('answers NOT_FOUND for an upload of another organization, exactly as for an unknown id, and leaves it alone', async () => {
    const theirs = unwrap(
      await createUpload(
        t,
        {
          filename: 'theirs.jpg',
          contentType: 'image/jpeg',
          bytes: rocket.bytes.length,
          spaceId: other.spaceId,
        },
        other.apiKey,
      ),
    ).createUpload;
    expect((await postForm(theirs.url, theirs.fields, rocket)).status).toBeLessThan(300);

    const foreign = await completeUpload(t, theirs.uploadId);
    const unknown = await completeUpload(t, 'upl_0190f3a1b2c37d4e8f90a1b2c3d4e5f6');
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(foreign.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect(foreign.data ?? null).toEqual(unknown.data ?? null);

    const row = await uploadRow(t, rowId(theirs.uploadId));
    expect(row.status).toBe('pending');
    expect((await holdings(t)).objects).toContain(row.storage_key);
    // Their own key completes it.
    const done = await completeUpload(t, theirs.uploadId, other.apiKey);
    expect(done.data?.completeUpload.sha256).toBe(sha256(rocket.bytes));
  });

  it('refuses to complete an upload before a file arrived (BAD_USER_INPUT, reason missing), and completes it once the file is there', async () => {
    const created = unwrap(
      await createUpload(t, { filename: 'later.jpg', contentType: 'image/jpeg', bytes: rocket.bytes.length }),
    ).createUpload;
    const early = await completeUpload(t, created.uploadId);
    expect(codes(early)).toEqual(['BAD_USER_INPUT']);
    expect(early.errors?.[0]?.extensions?.details).toMatchObject({ reason: 'missing' });
    expect((await uploadRow(t, rowId(created.uploadId))).status).toBe('pending');

    expect((await postForm(created.url, created.fields, rocket)).status).toBeLessThan(300);
    const late = await completeUpload(t, created.uploadId);
    expect(late.data?.completeUpload).toMatchObject({ width: 640, height: 427, filename: 'later.jpg' });
  });

  it('marks a refused direct upload failed and deletes the staged file', async () => {
    const spaceId = await createSpace(t, 'Refused');
    const before = await holdings(t);
    const text = textFile();
    const created = unwrap(
      await createUpload(t, {
        filename: 'notes.jpg',
        contentType: 'image/jpeg',
        bytes: text.length,
        spaceId,
      }),
    ).createUpload;
    expect(
      (
        await postForm(created.url, created.fields, {
          bytes: text,
          filename: 'notes.jpg',
          type: 'image/jpeg',
        })
      ).status,
    ).toBeLessThan(300);
    const staged = (await uploadRow(t, rowId(created.uploadId))).storage_key;
    expect((await holdings(t)).objects).toContain(staged);

    const refused = await completeUpload(t, created.uploadId);
    expect(codes(refused)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(await uploadRow(t, rowId(created.uploadId))).toMatchObject({
      status: 'failed',
      error_code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await holdings(t)).toEqual(before);
    // Asking again gives the same refusal, not a different story.
    expect(codes(await completeUpload(t, created.uploadId))).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
  });
}

describeWith([], 'ingestion: the three ways in, on local disk', () => waysIn('local'));
describeWith(['s3'], 'ingestion: the three ways in, on S3', () => waysIn('s3'));
