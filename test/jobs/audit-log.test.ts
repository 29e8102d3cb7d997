/**
 * The audit log as an organization's admin reads it: every mutation of the schema leaves one entry
 * saying what was done to which resource, by which key, from which address, in which request (the
 * `x-request-id` the caller got back); `auditLog(first, after, filter)` pages and filters; keys
 * without the admin scope are refused; another organization's entries never show.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapOrganization } from '../../src/tenancy/bootstrap.js';
import { fixture, repoRoot } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import {
  loopbackServer,
  multipartBody,
  postForm,
  settle,
  staticFiles,
  type FilePart,
  type LoopbackServer,
} from '../ingestion/ingest-client.js';

const USER_AGENT = 'tessera-audit-test/1.0';

interface Answer<T> extends GraphQLResponse<T> {
  requestId: string;
}

interface EntryView {
  id: string;
  action: string;
  actorType: string;
  actorId: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

interface Page {
  edges: { cursor: string; node: EntryView }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const ENTRY_FIELDS =
  'id action actorType actorId resourceType resourceId ip userAgent requestId details createdAt';
const AUDIT_LOG = `query($first: Int, $after: String, $filter: AuditFilterInput) {
  auditLog(first: $first, after: $after, filter: $filter) {
    edges { cursor node { ${ENTRY_FIELDS} } } pageInfo { hasNextPage endCursor }
  }
}`;

/** What one mutation should have left in the log. */
interface Expected {
  mutation: string;
  action: string;
  resourceType: string;
  resourceId: string;
  requestId: string;
  actorId: string;
}

describeWith([], 'jobs: the audit log', () => {
  let t: TestTessera;
  let files: LoopbackServer;
  let adminKeyId: string;
  const expected: Expected[] = [];

  beforeAll(async () => {
    files = await loopbackServer(
      staticFiles({ '/rocket.jpg': { body: fixture('rocket.jpg'), type: 'image/jpeg' } }),
    );
    t = await startTestTessera({ env: { IMPORT_ALLOW_NETWORKS: '127.0.0.1/32' } });
    adminKeyId = (await call<{ viewer: { actorId: string } }>('{ viewer { actorId } }')).data!.viewer.actorId;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await files?.close();
  }, 30_000);

  /** A GraphQL request as a client sends it, with the request id Tessera answered with. */
  async function call<T>(
    query: string,
    variables: Record<string, unknown> = {},
    key: string = t.boot.apiKey,
  ): Promise<Answer<T>> {
    const response = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        'user-agent': USER_AGENT,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
    return { status: response.status, ...body, requestId: response.headers.get('x-request-id') ?? '' };
  }

  /** The same for a multipart request carrying one file at `path`. */
  async function callWithFile<T>(
    query: string,
    variables: Record<string, unknown>,
    path: string,
    file: FilePart,
    key: string = t.boot.apiKey,
  ): Promise<Answer<T>> {
    const { body, contentType } = multipartBody(query, variables, path, file);
    const response = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        authorization: `Bearer ${key}`,
        'apollo-require-preflight': 'true',
        'user-agent': USER_AGENT,
      },
      body: new Uint8Array(body),
    });
    const json = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
    return { status: response.status, ...json, requestId: response.headers.get('x-request-id') ?? '' };
  }

  /** Runs a mutation, checks it succeeded, and notes the entry it must leave. */
  async function mutate<T>(
    mutation: string,
    answer: Promise<Answer<T>>,
    entry: (data: T) => { action: string; resourceType: string; resourceId: string },
    actorId: string = adminKeyId,
  ): Promise<T> {
    const res = await answer;
    if (!res.data || res.errors) throw new Error(`${mutation}: ${JSON.stringify(res.errors)}`);
    expect(res.requestId).toMatch(/^[0-9a-f]{16}$/);
    expected.push({ mutation, ...entry(res.data), requestId: res.requestId, actorId });
    return res.data;
  }

  async function auditLog(
    args: { first?: number; after?: string; filter?: Record<string, unknown> },
    key: string = t.boot.apiKey,
  ): Promise<Answer<{ auditLog: Page }>> {
    return call<{ auditLog: Page }>(AUDIT_LOG, args, key);
  }

  /** Every entry the key may see, newest first, walking pages of `first`. */
  async function allEntries(
    first: number,
    filter?: Record<string, unknown>,
    key?: string,
  ): Promise<EntryView[]> {
    const entries: EntryView[] = [];
    let after: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const res = await auditLog({ first, after, filter }, key);
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      const { edges, pageInfo } = res.data.auditLog;
      expect(edges.length).toBeLessThanOrEqual(first);
      entries.push(...edges.map((e) => e.node));
      if (!pageInfo.hasNextPage) return entries;
      expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
      after = pageInfo.endCursor!;
    }
    throw new Error('auditLog does not end');
  }

  it('every mutation the schema has leaves one entry: action, resource, key, address, request id', async () => {
    const schema = readFileSync(join(repoRoot, 'schema', 'schema.graphql'), 'utf8');
    const block = /type Mutation \{([\s\S]*?)\n\}/.exec(schema)![1]!;
    const mutations = [...block.replace(/"""[\s\S]*?"""/g, '').matchAll(/^ {2}(\w+)[(:]/gm)]
      .map((m) => m[1]!)
      .sort();
    expect(mutations.length).toBeGreaterThan(20);

    const tenant = await mutate(
      'createTenant',
      call<{ createTenant: { id: string } }>(
        'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }',
        { i: { name: 'Audited' } },
      ),
      (d) => ({ action: 'tenant.create', resourceType: 'Tenant', resourceId: d.createTenant.id }),
    );
    const tenantId = tenant.createTenant.id;
    await mutate(
      'updateTenant',
      call('mutation($id: ID!) { updateTenant(id: $id, input: { name: "Audited tenant" }) { id } }', {
        id: tenantId,
      }),
      () => ({ action: 'tenant.update', resourceType: 'Tenant', resourceId: tenantId }),
    );
    const space = await mutate(
      'createSpace',
      call<{ createSpace: { id: string } }>(
        'mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id } }',
        {
          i: { tenantId, name: 'Audited space' },
        },
      ),
      (d) => ({ action: 'space.create', resourceType: 'Space', resourceId: d.createSpace.id }),
    );
    const spaceId = space.createSpace.id;
    await mutate(
      'updateSpace',
      call('mutation($id: ID!) { updateSpace(id: $id, input: { name: "Audited space 2" }) { id } }', {
        id: spaceId,
      }),
      () => ({ action: 'space.update', resourceType: 'Space', resourceId: spaceId }),
    );
    await mutate(
      'setSpaceQuota',
      call('mutation($id: ID!) { setSpaceQuota(spaceId: $id, quota: { originals: 100 }) { id } }', {
        id: spaceId,
      }),
      () => ({ action: 'space.quota', resourceType: 'Space', resourceId: spaceId }),
    );
    const preset = await mutate(
      'createPreset',
      call<{ createPreset: { id: string } }>(
        'mutation($i: CreatePresetInput!) { createPreset(input: $i) { id } }',
        {
          i: { spaceId, name: 'Square', slug: 'square', transform: { width: 100, height: 100 } },
        },
      ),
      (d) => ({ action: 'preset.create', resourceType: 'Preset', resourceId: d.createPreset.id }),
    );
    const presetId = preset.createPreset.id;
    await mutate(
      'updatePreset',
      call('mutation($id: ID!) { updatePreset(id: $id, input: { name: "Square 2" }) { id } }', {
        id: presetId,
      }),
      () => ({ action: 'preset.update', resourceType: 'Preset', resourceId: presetId }),
    );
    const uploaded = await mutate(
      'uploadAsset',
      callWithFile<{ uploadAsset: { id: string } }>(
        'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
        { input: { spaceId, file: null } },
        'variables.input.file',
        { bytes: fixture('chelsea.png'), filename: 'chelsea.png', type: 'image/png' },
      ),
      (d) => ({ action: 'asset.upload', resourceType: 'Asset', resourceId: d.uploadAsset.id }),
    );
    const assetId = uploaded.uploadAsset.id;
    await mutate(
      'transformAsset',
      call<{ transformAsset: { id: string } }>(
        'mutation($id: ID!) { transformAsset(assetId: $id, preset: "square") { id } }',
        { id: assetId },
      ),
      (d) => ({ action: 'variant.render', resourceType: 'Variant', resourceId: d.transformAsset.id }),
    );
    await mutate(
      'deletePreset',
      call('mutation($id: ID!) { deletePreset(id: $id) }', { id: presetId }),
      () => ({ action: 'preset.delete', resourceType: 'Preset', resourceId: presetId }),
    );
    await mutate(
      'updateAsset',
      call('mutation($id: ID!) { updateAsset(id: $id, input: { tags: ["cat"] }) { id } }', { id: assetId }),
      () => ({ action: 'asset.update', resourceType: 'Asset', resourceId: assetId }),
    );
    await mutate(
      'replaceAsset',
      callWithFile(
        'mutation($id: ID!, $file: Upload!) { replaceAsset(id: $id, file: $file) { id } }',
        { id: assetId, file: null },
        'variables.file',
        { bytes: fixture('coffee.png'), filename: 'coffee.png', type: 'image/png' },
      ),
      () => ({ action: 'asset.replace', resourceType: 'Asset', resourceId: assetId }),
    );
    const rocket = fixture('rocket.jpg');
    const started = await mutate(
      'createUpload',
      call<{ createUpload: { uploadId: string; url: string; fields: Record<string, string> } }>(
        'mutation($i: CreateUploadInput!) { createUpload(input: $i) { uploadId url fields } }',
        { i: { spaceId, filename: 'rocket.jpg', contentType: 'image/jpeg', bytes: rocket.length } },
      ),
      (d) => ({ action: 'upload.create', resourceType: 'Upload', resourceId: d.createUpload.uploadId }),
    );
    const { uploadId, url, fields } = started.createUpload;
    expect(
      (await postForm(url, fields, { bytes: rocket, filename: 'rocket.jpg', type: 'image/jpeg' })).status,
    ).toBeLessThan(300);
    const completed = await mutate(
      'completeUpload',
      call<{ completeUpload: { id: string } }>(
        'mutation($id: ID!) { completeUpload(uploadId: $id) { id } }',
        {
          id: uploadId,
        },
      ),
      (d) => ({ action: 'asset.upload', resourceType: 'Asset', resourceId: d.completeUpload.id }),
    );
    const imported = await mutate(
      'importAsset',
      call<{ importAsset: { id: string } }>(
        'mutation($i: ImportAssetInput!) { importAsset(input: $i) { id } }',
        {
          i: { spaceId, url: `${files.origin}/rocket.jpg`, filename: 'imported.jpg' },
        },
      ),
      (d) => ({ action: 'asset.import', resourceType: 'Asset', resourceId: d.importAsset.id }),
    );
    expect(imported.importAsset.id).toBe(completed.completeUpload.id); // the same bytes: the same asset
    for (const id of [assetId, completed.completeUpload.id]) {
      await mutate('deleteAsset', call('mutation($id: ID!) { deleteAsset(id: $id) }', { id }), () => ({
        action: 'asset.delete',
        resourceType: 'Asset',
        resourceId: id,
      }));
    }
    const key = await mutate(
      'createApiKey',
      call<{ createApiKey: { apiKey: { id: string } } }>(
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }',
        { i: { name: 'short-lived', scopes: ['ASSETS_READ'] } },
      ),
      (d) => ({ action: 'api_key.create', resourceType: 'ApiKey', resourceId: d.createApiKey.apiKey.id }),
    );
    await mutate(
      'revokeApiKey',
      call('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: key.createApiKey.apiKey.id }),
      () => ({ action: 'api_key.revoke', resourceType: 'ApiKey', resourceId: key.createApiKey.apiKey.id }),
    );
    await mutate(
      'rotateSigningKey',
      call<{ rotateSigningKey: { kid: string } }>('mutation { rotateSigningKey { kid } }'),
      (d) => ({
        action: 'signing_key.rotate',
        resourceType: 'SigningKey',
        resourceId: d.rotateSigningKey.kid,
      }),
    );
    await mutate(
      'updateOrganization',
      call<{ updateOrganization: { id: string } }>(
        'mutation { updateOrganization(input: { name: "Audited organization" }) { id } }',
      ),
      (d) => ({
        action: 'organization.update',
        resourceType: 'Organization',
        resourceId: d.updateOrganization.id,
      }),
    );
    await mutate(
      'setOrganizationQuota',
      call<{ setOrganizationQuota: { id: string } }>(
        'mutation { setOrganizationQuota(quota: { rendersPerDay: 100000 }) { id } }',
      ),
      (d) => ({
        action: 'organization.quota',
        resourceType: 'Organization',
        resourceId: d.setOrganizationQuota.id,
      }),
    );
    const empty = await call<{ createSpace: { id: string } }>(
      'mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id } }',
      { i: { tenantId, name: 'Short-lived space' } },
    );
    expected.push({
      mutation: 'createSpace',
      action: 'space.create',
      resourceType: 'Space',
      resourceId: empty.data!.createSpace.id,
      requestId: empty.requestId,
      actorId: adminKeyId,
    });
    await mutate(
      'deleteSpace',
      call('mutation($id: ID!) { deleteSpace(id: $id) }', { id: empty.data!.createSpace.id }),
      () => ({ action: 'space.delete', resourceType: 'Space', resourceId: empty.data!.createSpace.id }),
    );
    const spare = await mutate(
      'createTenant',
      call<{ createTenant: { id: string } }>(
        'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }',
        { i: { name: 'Short-lived tenant' } },
      ),
      (d) => ({ action: 'tenant.create', resourceType: 'Tenant', resourceId: d.createTenant.id }),
    );
    await mutate(
      'deleteTenant',
      call('mutation($id: ID!) { deleteTenant(id: $id) }', { id: spare.createTenant.id }),
      () => ({ action: 'tenant.delete', resourceType: 'Tenant', resourceId: spare.createTenant.id }),
    );
    await settle(t);

    // The test has made every mutation the schema offers.
    expect([...new Set(expected.map((e) => e.mutation))].sort()).toEqual(mutations);

    const entries = await allEntries(100);
    expect(entries).toHaveLength(expected.length);
    const byRequest = new Map(entries.map((e) => [e.requestId, e]));
    expect(byRequest.size).toBe(entries.length);
    for (const want of expected) {
      const entry = byRequest.get(want.requestId);
      expect({ mutation: want.mutation, entry }).toEqual({
        mutation: want.mutation,
        entry: expect.objectContaining({
          action: want.action,
          actorType: 'api_key',
          actorId: want.actorId,
          resourceType: want.resourceType,
          resourceId: want.resourceId,
          ip: '127.0.0.1',
          userAgent: USER_AGENT,
          requestId: want.requestId,
        }),
      });
    }
    // Newest first, in the order the mutations were made.
    expect(entries.map((e) => e.requestId)).toEqual(expected.map((e) => e.requestId).reverse());
  }, 90_000);

  it('pages with first/after without gaps or repeats, and filters by action, resource, actor, space and time', async () => {
    const everything = await allEntries(100);
    expect(everything.length).toBeGreaterThan(10);
    const paged = await allEntries(4);
    expect(paged.map((e) => e.id)).toEqual(everything.map((e) => e.id));

    const updates = await allEntries(10, { action: 'asset.update' });
    expect(updates.map((e) => e.action)).toEqual(['asset.update']);

    const assetId = updates[0]!.resourceId!;
    expect((await allEntries(10, { resourceId: assetId })).map((e) => e.action)).toEqual([
      'asset.delete',
      'asset.replace',
      'asset.update',
      'asset.upload',
    ]);
    expect((await allEntries(10, { resourceType: 'Preset' })).map((e) => e.action)).toEqual([
      'preset.delete',
      'preset.update',
      'preset.create',
    ]);

    // A second key of the organization: its own changes are told apart by actor.
    const created = await call<{ createApiKey: { token: string; apiKey: { id: string } } }>(
      'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { token apiKey { id } } }',
      { i: { name: 'editor', scopes: ['ASSETS_READ', 'ASSETS_WRITE'] } },
    );
    const editor = created.data!.createApiKey;
    const cutoff = new Date();
    const uploaded = await callWithFile<{ uploadAsset: { id: string } }>(
      'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }',
      { input: { spaceId: t.boot.spaceId, file: null } },
      'variables.input.file',
      { bytes: fixture('astronaut.png'), filename: 'astronaut.png', type: 'image/png' },
      editor.token,
    );
    expect(uploaded.errors).toBeUndefined();
    await settle(t);
    const byEditor = await allEntries(10, { actorId: editor.apiKey.id });
    expect(byEditor.map((e) => [e.action, e.resourceId, e.requestId])).toEqual([
      ['asset.upload', uploaded.data!.uploadAsset.id, uploaded.requestId],
    ]);
    expect((await allEntries(10, { since: cutoff.toISOString() })).map((e) => e.requestId)).toEqual([
      uploaded.requestId,
    ]);
    const inFirstSpace = await allEntries(100, { spaceId: t.boot.spaceId });
    expect(inFirstSpace.map((e) => e.action)).toEqual(['asset.upload']);
    expect((await allEntries(100, { until: cutoff.toISOString() })).length).toBe(everything.length + 1);

    // A cursor that is not one of this list's is refused, not taken for the start.
    for (const after of ['nonsense', '-1', '12abc']) {
      const bad = await auditLog({ first: 2, after });
      expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }

    // Not an admin: refused.
    const refused = await auditLog({ first: 10 }, editor.token);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(refused.data).toBeNull();
  }, 60_000);

  it("another organization's entries never show, and it sees none of this one's", async () => {
    const other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Other organization',
    });
    const made = await call<{ createSpace: { id: string } }>(
      'mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id } }',
      { i: { tenantId: other.tenantId, name: 'Elsewhere' } },
      other.apiKey,
    );
    expect(made.errors).toBeUndefined();
    const otherSpace = made.data!.createSpace.id;

    const theirs = await allEntries(100, undefined, other.apiKey);
    expect(theirs.map((e) => [e.action, e.resourceId, e.requestId])).toEqual([
      ['space.create', otherSpace, made.requestId],
    ]);
    const ours = await allEntries(100);
    expect(ours.length).toBeGreaterThan(10);
    expect(ours.filter((e) => e.requestId === made.requestId || e.resourceId === otherSpace)).toEqual([]);
    expect(await allEntries(100, { resourceId: otherSpace })).toEqual([]);
    expect(await allEntries(100, { spaceId: otherSpace })).toEqual([]);
  }, 60_000);
});
