/**
 * After ingestion: updating an asset's metadata, replacing its file (version + 1, old original
 * removed), deleting it (gone from queries, removed from storage), and the signed purge webhook a
 * CDN relay receives, on local disk and on S3.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { fixture } from '../support/fixtures.js';
import { textFile } from '../support/hostile-files.js';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  ASSET_FIELDS,
  createSpace,
  holdings,
  loopbackServer,
  originalsOf,
  replaceAsset,
  rowId,
  settle,
  sha256,
  uploadAsset,
  variantsOf,
  type AssetView,
  type FilePart,
  type LoopbackServer,
} from './ingest-client.js';

const SECRET = 'purge-webhook-secret-for-tests';
const rocket: FilePart = { bytes: fixture('rocket.jpg'), filename: 'rocket.jpg', type: 'image/jpeg' };
const hubble: FilePart = {
  bytes: fixture('hubble_deep_field.jpg'),
  filename: 'hubble.jpg',
  type: 'image/jpeg',
};
const chelsea: FilePart = { bytes: fixture('chelsea.png'), filename: 'chelsea.png', type: 'image/png' };

interface Notice {
  body: string;
  signature: string | undefined;
  json: { event: string; assetId: string; spaceId: string; urlPrefixes: string[] };
}

const UPDATE = `mutation($id: ID!, $input: UpdateAssetInput!) { updateAsset(id: $id, input: $input) { ${ASSET_FIELDS} } }`;

function lifecycle(storage: 'local' | 's3'): void {
  let t: TestTessera;
  let webhook: LoopbackServer;
  const notices: Notice[] = [];

  beforeAll(async () => {
    webhook = await loopbackServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = req.headers['x-tessera-signature'];
        notices.push({
          body,
          signature: typeof signature === 'string' ? signature : undefined,
          json: JSON.parse(body) as Notice['json'],
        });
        res.writeHead(204).end();
      });
    });
    t = await startTestTessera({
      storage,
      env: { PURGE_WEBHOOK_URL: `${webhook.origin}/purge`, PURGE_WEBHOOK_SECRET: SECRET },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await webhook?.close();
  });

  async function upload(file: FilePart, spaceId?: string): Promise<AssetView> {
    const res = await uploadAsset(t, file, spaceId === undefined ? {} : { spaceId });
    if (!res.data) throw new Error(JSON.stringify(res.errors));
    return res.data.uploadAsset;
  }

  const prefixesOf = (assetId: string) => {
    const { organization, tenant, space } = t.boot;
    return ['pub', 'priv'].map(
      (kind) => `${t.baseUrl}/v1/${kind}/${organization}/${tenant}/${space}/img/${assetId}/`,
    );
  };

  const expectSigned = (notice: Notice) => {
    expect(notice.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(notice.body).digest('hex')}`);
  };

  it('updates tags (normalised), folder, access, filename and focal point, and refuses values out of bounds', async () => {
    const asset = await upload(chelsea);
    const res = await t.gql<{ updateAsset: AssetView }>(UPDATE, {
      id: asset.id,
      input: {
        tags: ['  Summer ', 'BEACH', 'summer', 'Été'],
        folder: ' /Trips//2024/ ',
        access: 'PRIVATE',
        filename: 'uploads/cat photo.png',
        focalPoint: { x: 0.25, y: 0.75 },
      },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data?.updateAsset).toMatchObject({
      id: asset.id,
      version: 1,
      tags: ['summer', 'beach', 'été'],
      folder: 'Trips/2024',
      access: 'PRIVATE',
      filename: 'cat photo.png',
      focalPoint: { x: 0.25, y: 0.75 },
      sha256: asset.sha256,
    });
    expect(Date.parse(res.data!.updateAsset.updatedAt)).toBeGreaterThan(Date.parse(asset.updatedAt));

    for (const [input, field] of [
      [{ focalPoint: { x: 1.5, y: 0.5 } }, 'focalPoint.x'],
      [{ focalPoint: { x: 0.5, y: -0.01 } }, 'focalPoint.y'],
      [{ tags: ['ok', '   '] }, 'tags'],
      [{ tags: ['x'.repeat(65)] }, 'tags'],
      [{ folder: 'a/../etc' }, 'folder'],
    ] as const) {
      const refused = await t.gql(UPDATE, { id: asset.id, input });
      expect({
        input,
        codes: codes(refused),
        field: (refused.errors?.[0]?.extensions?.details as { field?: string } | undefined)?.field,
      }).toEqual({
        input,
        codes: ['BAD_USER_INPUT'],
        field,
      });
    }
    // Nothing of the refused changes was kept; null clears the focal point.
    const cleared = await t.gql<{ updateAsset: AssetView }>(UPDATE, {
      id: asset.id,
      input: { focalPoint: null },
    });
    expect(cleared.data?.updateAsset).toMatchObject({
      focalPoint: null,
      tags: ['summer', 'beach', 'été'],
      folder: 'Trips/2024',
    });
  });

  it('replaces the file: version 2, new hash and dimensions, the old original removed, purge notice sent', async () => {
    const spaceId = await createSpace(t, 'Replacing');
    const asset = await upload(rocket, spaceId);
    const oldKey = (await holdings(t)).assets.find((row) => row.id === rowId(asset.id))!.storage_key;

    await settle(t);
    const v1 = await variantsOf(t, asset.id);
    const res = await replaceAsset(t, asset.id, hubble);
    expect(res.errors).toBeUndefined();
    expect(res.data?.replaceAsset).toMatchObject({
      id: asset.id,
      version: 2,
      sha256: sha256(hubble.bytes),
      width: 1000,
      height: 872,
      bytes: hubble.bytes.length,
      filename: 'hubble.jpg',
    });
    await settle(t);
    const { assets, objects } = await holdings(t);
    const row = assets.find((r) => r.id === rowId(asset.id))!;
    expect(row.version).toBe(2);
    // Variants of version 1 are gone from the registry and the store; those of version 2 are new.
    const v2 = await variantsOf(t, asset.id);
    expect(v2.rows.every((r) => r.asset_version === 2)).toBe(true);
    expect(v2.objects.filter((key) => v1.objects.includes(key))).toEqual([]);
    expect(v2.objects).toEqual(v2.rows.map((r) => r.storage_key));
    expect(objects).not.toContain(oldKey);
    expect(originalsOf(objects, spaceId)).toEqual([row.storage_key]);
    expect(sha256(await t.tessera.store.readBuffer(row.storage_key))).toBe(sha256(hubble.bytes));

    const notice = notices.find((n) => n.json.event === 'asset.replaced' && n.json.assetId === asset.id);
    expect(notice).toBeDefined();
    expectSigned(notice!);
    expect(notice!.json.spaceId).toBe(spaceId);

    // Replacing with the bytes it already has changes nothing; with the bytes of another asset is a conflict.
    const same = await replaceAsset(t, asset.id, hubble);
    expect(same.data?.replaceAsset.version).toBe(2);
    const other = await upload(chelsea, spaceId);
    const clash = await replaceAsset(t, asset.id, chelsea);
    expect(codes(clash)).toEqual(['CONFLICT']);
    expect(other.id).not.toBe(asset.id);
  });

  it('refuses to replace with a file that is not an image, keeping the current version and original', async () => {
    const asset = await upload({ ...rocket, bytes: fixture('retina.jpg'), filename: 'retina.jpg' });
    const before = await holdings(t);
    const res = await replaceAsset(t, asset.id, {
      bytes: textFile(),
      filename: 'retina.jpg',
      type: 'image/jpeg',
    });
    expect(codes(res)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    await settle(t);
    expect(await holdings(t)).toEqual(before);
    const now = await t.gql<{ asset: AssetView }>(`query($id: ID!) { asset(id: $id) { version sha256 } }`, {
      id: asset.id,
    });
    expect(now.data?.asset).toEqual({ version: 1, sha256: asset.sha256 });
  });

  it('deletes an asset: NOT_FOUND afterwards, original removed from storage, purge notice with its URL prefixes; the same bytes make a new asset', async () => {
    const asset = await upload(hubble);
    const key = (await holdings(t)).assets.find((row) => row.id === rowId(asset.id))!.storage_key;
    expect((await holdings(t)).objects).toContain(key);
    await settle(t);
    expect((await variantsOf(t, asset.id)).objects.length).toBeGreaterThan(0);

    const res = await t.gql<{ deleteAsset: boolean }>(`mutation($id: ID!) { deleteAsset(id: $id) }`, {
      id: asset.id,
    });
    expect(res.data?.deleteAsset).toBe(true);
    const gone = await t.gql(`query($id: ID!) { asset(id: $id) { id } }`, { id: asset.id });
    expect(codes(gone)).toEqual(['NOT_FOUND']);
    const listed = await t.gql<{ assets: { edges: { node: { id: string } }[] } }>(
      `query($s: ID!) { assets(spaceId: $s, first: 100) { edges { node { id } } } }`,
      { s: t.boot.spaceId },
    );
    expect(listed.data?.assets.edges.map((e) => e.node.id)).not.toContain(asset.id);
    expect(codes(await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: asset.id }))).toEqual([
      'NOT_FOUND',
    ]);

    await settle(t);
    const after = await holdings(t);
    expect(after.objects).not.toContain(key);
    expect(after.assets.map((row) => row.id)).not.toContain(rowId(asset.id));
    expect(await variantsOf(t, asset.id)).toEqual({ rows: [], objects: [] });

    const notice = notices.find((n) => n.json.event === 'asset.deleted' && n.json.assetId === asset.id);
    expect(notice).toBeDefined();
    expectSigned(notice!);
    expect(notice!.json).toEqual({
      event: 'asset.deleted',
      assetId: asset.id,
      spaceId: t.boot.spaceId,
      urlPrefixes: prefixesOf(asset.id),
    });

    const again = await upload(hubble);
    expect(again.id).not.toBe(asset.id);
    expect(again.sha256).toBe(asset.sha256);
    expect((await holdings(t)).objects).toContain(key);
  });

  it('leaves no variant behind when an asset is deleted while its eager renders are still queued', async () => {
    const photo = { bytes: fixture('astronaut.png'), filename: 'astronaut.png', type: 'image/png' };
    const asset = await upload(photo);
    expect(codes(await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: asset.id }))).toEqual([]);
    await settle(t);
    expect(await variantsOf(t, asset.id)).toEqual({ rows: [], objects: [] });
    expect((await holdings(t)).assets.map((row) => row.id)).not.toContain(rowId(asset.id));
  });

  it('leaves no variant behind when on-demand renders finish while the asset is being deleted', async () => {
    const widths = [96, 128, 160, 192, 224, 256, 288, 320];
    const fields = widths.map((w) => `w${w}: url(transform: { width: ${w}, format: WEBP })`).join(' ');
    for (let round = 0; round < 6; round += 1) {
      const asset = await upload(rocket);
      const res = await t.gql<{ asset: Record<string, string> }>(
        `query($id: ID!) { asset(id: $id) { ${fields} } }`,
        { id: asset.id },
      );
      const urls = Object.values(res.data!.asset);
      // Renders are in flight (some done, some rendering, some queued) when the delete lands.
      const answers = Promise.all(
        urls.map(async (url) => {
          const reply = await fetch(url);
          const body = Buffer.from(await reply.arrayBuffer());
          return { status: reply.status, body: reply.ok ? '' : body.toString('utf8') };
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20 * round));
      expect(codes(await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: asset.id }))).toEqual([]);
      // Each request is answered with the image, or NOT_FOUND once the delete wins; never a 5xx.
      expect((await answers).filter((a) => a.status !== 200 && a.status !== 404)).toEqual([]);
      await settle(t);
      expect(await variantsOf(t, asset.id)).toEqual({ rows: [], objects: [] });
    }
  }, 60_000);
}

describeWith([], 'ingestion: update, replace, delete and purge, on local disk', () => lifecycle('local'));
describeWith(['s3'], 'ingestion: update, replace, delete and purge, on S3', () => lifecycle('s3'));
