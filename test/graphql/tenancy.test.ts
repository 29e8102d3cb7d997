import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bootstrapOrganization, type BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';

/** A response with ids blanked, so "foreign" and "unknown" answers can be compared for equality. */
const shape = (res: GraphQLResponse<unknown>) =>
  JSON.parse(
    JSON.stringify({ data: res.data ?? null, errors: res.errors ?? [] }).replace(
      /\b[a-z]{3}_[0-9a-f]{32}\b/g,
      '<id>',
    ),
  );

describe('tenancy isolation', () => {
  let t: TestTessera;
  let other: BootstrapResult;
  let otherKeyId: string;
  const unknown = {
    space: 'spc_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
    tenant: 'ten_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
    key: 'key_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  };

  beforeAll(async () => {
    t = await startTestTessera();
    other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
      organization: 'Globex',
    });
    const keys = await t.gql<{ apiKeys: { edges: { node: { id: string } }[] } }>(
      `{ apiKeys(first: 10) { edges { node { id } } } }`,
      {},
      other.apiKey,
    );
    otherKeyId = keys.data!.apiKeys.edges[0]!.node.id;
  }, 120_000);
  afterAll(async () => t?.close());

  /** Runs an operation with a foreign id and with an unknown id: the answers must be the same. */
  async function expectSameAsUnknown(
    query: string,
    foreign: Record<string, unknown>,
    missing: Record<string, unknown>,
  ) {
    const a = await t.gql(query, foreign);
    const b = await t.gql(query, missing);
    expect(shape(a)).toEqual(shape(b));
    return a;
  }

  it('lists only the caller organization', async () => {
    const mine = await t.gql<{ spaces: { id: string }[]; tenants: { id: string }[] }>(
      `{ spaces { id } tenants { id } }`,
    );
    expect(mine.data?.spaces.map((s) => s.id)).toEqual([t.boot.spaceId]);
    expect(mine.data?.tenants.map((s) => s.id)).toEqual([t.boot.tenantId]);
    const keys = await t.gql<{ apiKeys: { edges: { node: { id: string } }[] } }>(
      `{ apiKeys(first: 100) { edges { node { id } } } }`,
    );
    expect(keys.data!.apiKeys.edges.map((e) => e.node.id)).not.toContain(otherKeyId);
  });

  it('answers node(id) of another organization exactly as an unknown id', async () => {
    for (const [foreign, missing] of [
      [other.spaceId, unknown.space],
      [other.tenantId, unknown.tenant],
      [other.organizationId, 'org_0190f3a1b2c37d4e8f90a1b2c3d4e5f6'],
      [otherKeyId, unknown.key],
    ] as const) {
      const res = await expectSameAsUnknown(
        `query($id: ID!) { node(id: $id) { id } }`,
        { id: foreign },
        { id: missing },
      );
      expect(res.data).toEqual({ node: null });
    }
  });

  it('refuses every query and mutation on foreign ids with NOT_FOUND, as for unknown ids', async () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [`query($id: ID!) { space(id: $id) { id } }`, { id: other.spaceId }, { id: unknown.space }],
      [
        `mutation($id: ID!) { updateSpace(id: $id, input: { name: "mine now" }) { id } }`,
        { id: other.spaceId },
        { id: unknown.space },
      ],
      [`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: other.spaceId }, { id: unknown.space }],
      [
        `mutation($id: ID!) { createSpace(input: { tenantId: $id, name: "intruder" }) { id } }`,
        { id: other.tenantId },
        { id: unknown.tenant },
      ],
      [
        `mutation($id: ID!) { updateTenant(id: $id, input: { name: "mine now" }) { id } }`,
        { id: other.tenantId },
        { id: unknown.tenant },
      ],
      [`mutation($id: ID!) { deleteTenant(id: $id) }`, { id: other.tenantId }, { id: unknown.tenant }],
      [`mutation($id: ID!) { revokeApiKey(id: $id) }`, { id: otherKeyId }, { id: unknown.key }],
      [
        `mutation($id: ID!) { createApiKey(input: { name: "x", scopes: [ASSETS_READ], spaceId: $id }) { token } }`,
        { id: other.spaceId },
        { id: unknown.space },
      ],
      [
        `mutation($id: ID!) { createApiKey(input: { name: "x", scopes: [ASSETS_READ], tenantId: $id }) { token } }`,
        { id: other.tenantId },
        { id: unknown.tenant },
      ],
    ];
    for (const [query, foreign, missing] of cases) {
      const res = await expectSameAsUnknown(query, foreign, missing);
      expect({ query, codes: codes(res) }).toEqual({ query, codes: ['NOT_FOUND'] });
    }
    // and nothing changed over there
    const theirs = await t.gql<{ spaces: { id: string; name: string }[] }>(
      `{ spaces { id name } }`,
      {},
      other.apiKey,
    );
    expect(theirs.data?.spaces).toEqual([{ id: other.spaceId, name: 'Media' }]);
    const theirKeys = await t.gql<{ apiKeys: { edges: { node: { active: boolean } }[] } }>(
      `{ apiKeys(first: 10) { edges { node { active } } } }`,
      {},
      other.apiKey,
    );
    expect(theirKeys.data?.apiKeys.edges.map((e) => e.node.active)).toEqual([true]);
  });

  it('confines tenant- and space-bound keys to their tenant and space', async () => {
    const spaceB = await t.gql<{ createSpace: { id: string } }>(
      `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "Second" }) { id } }`,
      {
        t: t.boot.tenantId,
      },
    );
    expect(spaceB.errors).toBeUndefined();
    const secondSpace = spaceB.data!.createSpace.id;
    const tenant2 = await t.gql<{ createTenant: { id: string } }>(
      `mutation { createTenant(input: { name: "Brand two" }) { id } }`,
    );
    const tenantTwo = tenant2.data!.createTenant.id;

    const make = async (input: string) =>
      (
        await t.gql<{ createApiKey: { token: string } }>(
          `mutation { createApiKey(input: ${input}) { token } }`,
        )
      ).data!.createApiKey.token;
    const spaceKey = await make(`{ name: "s", scopes: [ADMIN], spaceId: "${t.boot.spaceId}" }`);
    const tenantKey = await make(`{ name: "t", scopes: [ADMIN], tenantId: "${t.boot.tenantId}" }`);

    const seenBySpaceKey = await t.gql<{ spaces: { id: string }[]; tenants: { id: string }[] }>(
      `{ spaces { id } tenants { id } }`,
      {},
      spaceKey,
    );
    expect(seenBySpaceKey.data?.spaces.map((s) => s.id)).toEqual([t.boot.spaceId]);
    expect(seenBySpaceKey.data?.tenants.map((s) => s.id)).toEqual([t.boot.tenantId]);
    const foreignSpace = await t.gql(
      `query($id: ID!) { space(id: $id) { id } }`,
      { id: secondSpace },
      spaceKey,
    );
    expect(codes(foreignSpace)).toEqual(['NOT_FOUND']);
    expect(
      codes(
        await t.gql(
          `mutation($id: ID!) { updateSpace(id: $id, input: { name: "x" }) { id } }`,
          { id: secondSpace },
          spaceKey,
        ),
      ),
    ).toEqual(['NOT_FOUND']);

    const seenByTenantKey = await t.gql<{ spaces: { id: string }[]; tenants: { id: string }[] }>(
      `{ spaces { id } tenants { id } }`,
      {},
      tenantKey,
    );
    expect(seenByTenantKey.data?.spaces.map((s) => s.id).sort()).toEqual(
      [t.boot.spaceId, secondSpace].sort(),
    );
    expect(seenByTenantKey.data?.tenants.map((s) => s.id)).toEqual([t.boot.tenantId]);
    expect(
      codes(
        await t.gql(
          `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "x" }) { id } }`,
          { t: tenantTwo },
          tenantKey,
        ),
      ),
    ).toEqual(['NOT_FOUND']);
    expect(
      codes(await t.gql(`mutation { createTenant(input: { name: "x" }) { id } }`, {}, tenantKey)),
    ).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(`mutation { rotateSigningKey { kid } }`, {}, tenantKey))).toEqual(['FORBIDDEN']);
  });

  it('keeps slugs unique per parent and refuses bad ones', async () => {
    const dup = await t.gql(
      `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "Media", slug: "media" }) { id } }`,
      { t: t.boot.tenantId },
    );
    expect(codes(dup)).toEqual(['CONFLICT']);
    const bad = await t.gql(
      `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "X", slug: "Bad Slug!" }) { id } }`,
      { t: t.boot.tenantId },
    );
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    // the same slug is fine in another organization's tenant
    const theirs = await t.gql(
      `mutation($t: ID!) { createSpace(input: { tenantId: $t, name: "Second" }) { slug } }`,
      { t: other.tenantId },
      other.apiKey,
    );
    expect(theirs.data).toEqual({ createSpace: { slug: 'second' } });
  });

  it('rotates signing keys per organization, keeping the old one verifying for the grace period', async () => {
    const first = await t.gql<{ rotateSigningKey: { kid: string; status: string } }>(
      `mutation { rotateSigningKey { kid status } }`,
    );
    const second = await t.gql<{ rotateSigningKey: { kid: string } }>(
      `mutation { rotateSigningKey { kid } }`,
    );
    const list = await t.gql<{ signingKeys: { kid: string; status: string; verifyUntil: string | null }[] }>(
      `{ signingKeys { kid status verifyUntil } }`,
    );
    expect(list.data!.signingKeys[0]).toMatchObject({
      kid: second.data!.rotateSigningKey.kid,
      status: 'ACTIVE',
      verifyUntil: null,
    });
    expect(list.data!.signingKeys[1]).toMatchObject({
      kid: first.data!.rotateSigningKey.kid,
      status: 'RETIRING',
    });
    expect(new Date(list.data!.signingKeys[1]!.verifyUntil!).getTime()).toBeGreaterThan(Date.now());
    const theirs = await t.gql<{ signingKeys: { kid: string }[] }>(
      `{ signingKeys { kid } }`,
      {},
      other.apiKey,
    );
    expect(theirs.data!.signingKeys.map((k) => k.kid)).not.toContain(second.data!.rotateSigningKey.kid);
  });

  it('writes an audit entry for every mutation', async () => {
    const rows: { action: string; actor_id: string; organization_id: string }[] =
      await t.tessera.registry.dataSource.query(
        `SELECT action, actor_id, organization_id FROM audit_log ORDER BY id`,
      );
    const actions = new Set(rows.map((r) => r.action));
    for (const action of ['space.create', 'tenant.create', 'api_key.create', 'signing_key.rotate'])
      expect(actions).toContain(action);
    // refused mutations left no entry
    expect(rows.filter((r) => r.action === 'space.update')).toHaveLength(0);
  });
});
