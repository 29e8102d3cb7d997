/**
 * Ingestion and assets across organizations: ids of another organization answer exactly as
 * unknown ids (NOT_FOUND) and change nothing over there; a read-only key reads but cannot write.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bootstrapOrganization, type BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { fixture } from '../support/fixtures.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import {
  ASSET_FIELDS,
  completeUpload,
  createUpload,
  holdings,
  JOBS_OFF,
  importAsset,
  keepAliveAfterRefusal,
  loopbackServer,
  multipartBody,
  postForm,
  replaceAsset,
  rowId,
  staticFiles,
  uploadAsset,
  uploadRow,
  type AssetView,
  type LoopbackServer,
} from './ingest-client.js';

const UNKNOWN = {
  asset: 'ast_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  space: 'spc_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  upload: 'upl_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
};

/** A response with public ids blanked, so that two answers can be compared for equality. */
const shape = (res: GraphQLResponse<unknown>) =>
  JSON.parse(
    JSON.stringify({ status: res.status, data: res.data ?? null, errors: res.errors ?? [] }).replace(
      /\b[a-z]{3}_[0-9a-f]{32}\b/g,
      '<id>',
    ),
  );

const rocket = { bytes: fixture('rocket.jpg'), filename: 'rocket.jpg', type: 'image/jpeg' };
const chelsea = { bytes: fixture('chelsea.png'), filename: 'chelsea.png', type: 'image/png' };

describe('ingestion: tenancy and scopes', () => {
  let t: TestTessera;
  let other: BootstrapResult;
  let theirAsset: AssetView;
  let theirUpload: string;
  let files: LoopbackServer;
  const fetched: string[] = [];
  let readOnlyKey: string;
  let mine: AssetView;

  beforeAll(async () => {
    files = await loopbackServer(
      staticFiles({ '/rocket.jpg': { body: rocket.bytes, type: 'image/jpeg' } }, fetched),
    );
    t = await startTestTessera({ env: { ...JOBS_OFF, IMPORT_ALLOW_NETWORKS: '127.0.0.1/32' } });
    other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Other',
    });
    const theirs = await uploadAsset(t, chelsea, { spaceId: other.spaceId }, other.apiKey);
    theirAsset = theirs.data!.uploadAsset;
    const created = await createUpload(
      t,
      {
        filename: 'theirs.jpg',
        contentType: 'image/jpeg',
        bytes: rocket.bytes.length,
        spaceId: other.spaceId,
      },
      other.apiKey,
    );
    theirUpload = created.data!.createUpload.uploadId;
    await postForm(created.data!.createUpload.url, created.data!.createUpload.fields, rocket);
    mine = (await uploadAsset(t, rocket)).data!.uploadAsset;
    const key = await t.gql<{ createApiKey: { token: string } }>(
      `mutation { createApiKey(input: { name: "reader", scopes: [ASSETS_READ] }) { token } }`,
    );
    readOnlyKey = key.data!.createApiKey.token;
  }, 120_000);
  afterAll(async () => {
    await files?.close();
    // A connection left half-read by a refused upload would hold the server's close until it times out.
    t?.tessera.http.server.closeAllConnections();
    await t?.close();
  });

  it('answers every asset operation on ids of another organization exactly as on unknown ids: NOT_FOUND', async () => {
    const before = await holdings(t);
    const cases: [string, (id: string) => Promise<GraphQLResponse<unknown>>, string, string][] = [
      [
        'asset',
        (id) => t.gql(`query($id: ID!) { asset(id: $id) { id } }`, { id }),
        theirAsset.id,
        UNKNOWN.asset,
      ],
      [
        'updateAsset',
        (id) =>
          t.gql(`mutation($id: ID!) { updateAsset(id: $id, input: { tags: ["mine"] }) { id } }`, { id }),
        theirAsset.id,
        UNKNOWN.asset,
      ],
      ['replaceAsset', (id) => replaceAsset(t, id, rocket), theirAsset.id, UNKNOWN.asset],
      [
        'deleteAsset',
        (id) => t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id }),
        theirAsset.id,
        UNKNOWN.asset,
      ],
      [
        'assets',
        (spaceId) =>
          t.gql(`query($s: ID!) { assets(spaceId: $s) { edges { node { id } } } }`, { s: spaceId }),
        other.spaceId,
        UNKNOWN.space,
      ],
      ['uploadAsset', (spaceId) => uploadAsset(t, rocket, { spaceId }), other.spaceId, UNKNOWN.space],
      [
        'createUpload',
        (spaceId) => createUpload(t, { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 1000, spaceId }),
        other.spaceId,
        UNKNOWN.space,
      ],
      ['completeUpload', (id) => completeUpload(t, id), theirUpload, UNKNOWN.upload],
      [
        'importAsset',
        (spaceId) => importAsset(t, `${files.origin}/rocket.jpg`, { spaceId }),
        other.spaceId,
        UNKNOWN.space,
      ],
    ];
    for (const [operation, run, foreign, unknown] of cases) {
      const a = await run(foreign);
      const b = await run(unknown);
      expect({ operation, codes: codes(a) }).toEqual({ operation, codes: ['NOT_FOUND'] });
      expect({ operation, answer: shape(a) }).toEqual({ operation, answer: shape(b) });
    }
    // Nothing was fetched for a space the caller cannot see, and nothing changed anywhere.
    expect(fetched).toEqual([]);
    expect(await holdings(t)).toEqual(before);
    expect((await uploadRow(t, rowId(theirUpload))).status).toBe('pending');
    const theirView = await t.gql<{ asset: AssetView }>(
      `query($id: ID!) { asset(id: $id) { ${ASSET_FIELDS} } }`,
      { id: theirAsset.id },
      other.apiKey,
    );
    expect(theirView.data?.asset).toEqual(theirAsset);
  });

  it('does not show another organization its assets in listings', async () => {
    const res = await t.gql<{ assets: { edges: { node: { id: string } }[] } }>(
      `query($s: ID!) { assets(spaceId: $s) { edges { node { id } } } }`,
      { s: t.boot.spaceId },
      other.apiKey,
    );
    expect(codes(res)).toEqual(['NOT_FOUND']);
    const theirs = await t.gql<{ assets: { edges: { node: { id: string } }[] } }>(
      `query($s: ID!) { assets(spaceId: $s) { edges { node { id } } } }`,
      { s: other.spaceId },
      other.apiKey,
    );
    expect(theirs.data?.assets.edges.map((e) => e.node.id)).toEqual([theirAsset.id]);
  });

  it('lets a key with only assets:read read, and answers FORBIDDEN to every mutation, changing nothing', async () => {
    const read = await t.gql<{ asset: { id: string } }>(
      `query($id: ID!) { asset(id: $id) { id } }`,
      { id: mine.id },
      readOnlyKey,
    );
    expect(read.data?.asset.id).toBe(mine.id);
    const listed = await t.gql<{ assets: { edges: { node: { id: string } }[] } }>(
      `query($s: ID!) { assets(spaceId: $s) { edges { node { id } } } }`,
      { s: t.boot.spaceId },
      readOnlyKey,
    );
    expect(listed.data?.assets.edges.map((e) => e.node.id)).toContain(mine.id);

    const mineUpload = (
      await createUpload(t, { filename: 'mine.jpg', contentType: 'image/jpeg', bytes: rocket.bytes.length })
    ).data!.createUpload;
    await postForm(mineUpload.url, mineUpload.fields, rocket);
    const before = await holdings(t);
    const attempts: [string, () => Promise<GraphQLResponse<unknown>>][] = [
      ['uploadAsset', () => uploadAsset(t, chelsea, {}, readOnlyKey)],
      [
        'createUpload',
        () => createUpload(t, { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 1000 }, readOnlyKey),
      ],
      ['completeUpload', () => completeUpload(t, mineUpload.uploadId, readOnlyKey)],
      ['importAsset', () => importAsset(t, `${files.origin}/rocket.jpg`, {}, readOnlyKey)],
      [
        'updateAsset',
        () =>
          t.gql(
            `mutation($id: ID!) { updateAsset(id: $id, input: { tags: ["x"] }) { id } }`,
            { id: mine.id },
            readOnlyKey,
          ),
      ],
      ['replaceAsset', () => replaceAsset(t, mine.id, chelsea, readOnlyKey)],
      [
        'deleteAsset',
        () => t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: mine.id }, readOnlyKey),
      ],
    ];
    for (const [operation, run] of attempts) {
      const res = await run();
      expect({ operation, codes: codes(res) }).toEqual({ operation, codes: ['FORBIDDEN'] });
    }
    expect(fetched).toEqual([]);
    expect(await holdings(t)).toEqual(before);
    expect((await uploadRow(t, rowId(mineUpload.uploadId))).status).toBe('pending');
    const still = await t.gql<{ asset: AssetView }>(
      `query($id: ID!) { asset(id: $id) { ${ASSET_FIELDS} } }`,
      { id: mine.id },
    );
    expect(still.data?.asset).toEqual(mine);
  });

  it('still answers on the same connection after refusing an upload it did not read (FORBIDDEN)', async () => {
    const upload = multipartBody(
      'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
      { input: { spaceId: t.boot.spaceId, file: null } },
      'variables.input.file',
      chelsea,
    );
    const { refusal, next } = await keepAliveAfterRefusal(t, upload, readOnlyKey);
    expect(codes(refusal)).toEqual(['FORBIDDEN']);
    expect(next).not.toBe('no answer');
    expect(next).toMatchObject({ status: 200, data: { viewer: { __typename: 'Viewer' } } });
  });

  it('confines a space-bound key to its space', async () => {
    const second = await t.gql<{ createSpace: { id: string } }>(
      `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "Second" }) { id } }`,
      { t: t.boot.tenantId },
    );
    const spaceB = second.data!.createSpace.id;
    const bound = await t.gql<{ createApiKey: { token: string } }>(
      `mutation($s: ID!) { createApiKey(input: { name: "space B", scopes: [ASSETS_READ, ASSETS_WRITE], spaceId: $s }) { token } }`,
      { s: spaceB },
    );
    const key = bound.data!.createApiKey.token;
    const inB = await uploadAsset(t, chelsea, { spaceId: spaceB }, key);
    expect(inB.data?.uploadAsset.space.id).toBe(spaceB);
    expect(codes(await uploadAsset(t, chelsea, { spaceId: t.boot.spaceId }, key))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(`query($id: ID!) { asset(id: $id) { id } }`, { id: mine.id }, key))).toEqual([
      'NOT_FOUND',
    ]);
    expect(codes(await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: mine.id }, key))).toEqual([
      'NOT_FOUND',
    ]);
  });
});
