/**
 * The tenancy matrix: every query and mutation of the live schema (introspected, so a new operation
 * is covered as soon as it exists), called with the ids of another party's resources, by four
 * principals — another organization's admin, another tenant's admin, an admin key bound to another
 * space, and a key lacking the scope — and the image endpoint with other tenants' assets under
 * swapped slugs. No answer carries the victim's data, every refusal is NOT_FOUND, FORBIDDEN or
 * UNAUTHENTICATED exactly as for an id that does not exist, and the victim's rows and objects are
 * unchanged afterwards.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { bootstrapOrganization, type BootstrapResult } from '../../src/tenancy/bootstrap.js';
import { signedImageUrl } from '../../src/signing/image-urls.js';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import { JOBS_OFF, rowId, uploadAsset, type AssetView } from '../ingestion/ingest-client.js';
import { dataOf, signerOf } from '../delivery/delivery-client.js';
import {
  INTROSPECTION_QUERY,
  operationCases,
  withoutFiles,
  type IdKind,
  type IntrospectedSchema,
  type OperationCase,
} from './schema-walk.js';

const UNKNOWN: Readonly<Record<IdKind, string>> = {
  organization: 'org_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  tenant: 'ten_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  space: 'spc_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  asset: 'ast_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  preset: 'pst_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  apiKey: 'key_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  upload: 'upl_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
  variant: 'var_0190f3a1b2c37d4e8f90a1b2c3d4e5f6',
};

/** Codes a refusal of another party's id may carry. */
const REFUSALS = new Set(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']);

/** Types a key without the admin scope must never be shown (its own key aside). */
const ADMIN_ONLY_TYPES = new Set(['ApiKey', 'SigningKey', 'AuditEntry', 'CreatedApiKey']);

/** Every object in an answer, with its `__typename`. */
function objectsIn(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const v of value) objectsIn(v, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) objectsIn(v, out);
  }
  return out;
}

const codesOf = (res: GraphQLResponse<unknown>): string[] =>
  [...new Set((res.errors ?? []).map((e) => String(e.extensions?.code)))].sort();

interface Principal {
  readonly name: string;
  readonly key: string;
  /** The ids this principal is given for each kind: resources it must not reach. */
  readonly ids: Readonly<Record<IdKind, string>>;
  /** Strings of the victim's that must never appear in this principal's answers. */
  readonly secrets: readonly string[];
  /** Rows of its own scope, left out of the victim's snapshot (it may change those). */
  readonly own?: { readonly tenant?: string; readonly space?: string };
  /** A key without the admin scope: every mutation is FORBIDDEN, no admin-only object is shown. */
  readonly lacksScope?: { readonly ownKeyId: string };
}

describeWith(
  [],
  'reliability: the tenancy matrix over every operation of the schema and the image endpoint',
  () => {
    let t: TestTessera;
    let victim: BootstrapResult;
    let schema: IntrospectedSchema;
    const suffix = randomBytes(4).toString('hex');
    const world = {} as {
      t2: string;
      s2: string;
      s3: string;
      assetPublic: AssetView;
      assetPrivate: AssetView;
      presetSpace: string;
      presetOrganization: string;
      upload: string;
      keys: {
        admin: string;
        spaceRead: string;
        tenantAdmin: string;
        attackerTenant: string;
        attackerSpace: string;
      };
      tokens: { spaceRead: string; attackerTenant: string; attackerSpace: string };
      variant: string;
      kid: string;
      slugs: { t2: string; s2: string };
    };
    const principals: Principal[] = [];

    const as = (key: string) => ({
      gql: <T>(query: string, variables: Record<string, unknown> = {}) => t.gql<T>(query, variables, key),
    });

    /** Sends a case (multipart when it carries a file) with `key`. */
    async function send(c: OperationCase, key: string): Promise<GraphQLResponse<Record<string, unknown>>> {
      const variables = withoutFiles(c.variables) as Record<string, unknown>;
      if (c.files.length === 0) return t.gql(c.document, variables, key);
      const form = new FormData();
      form.append('operations', JSON.stringify({ query: c.document, variables }));
      form.append('map', JSON.stringify(Object.fromEntries(c.files.map((path, i) => [String(i), [path]]))));
      c.files.forEach((_path, i) =>
        form.append(
          String(i),
          new Blob([new Uint8Array(fixture('rocket.jpg'))], { type: 'image/jpeg' }),
          `m${i}.jpg`,
        ),
      );
      const response = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true', connection: 'close' },
        body: form,
      });
      return { status: response.status, ...((await response.json()) as object) };
    }

    /** The victim organization's rows (and stored originals), minus the rows of `own`'s scope. */
    async function victimState(own: Principal['own'] = {}): Promise<string> {
      const org = rowId(victim.organizationId);
      const db = t.tessera.registry.dataSource;
      const notOwn = `AND tenant_id IS DISTINCT FROM $2 AND space_id IS DISTINCT FROM $3`;
      const params = [org, own.tenant ? rowId(own.tenant) : null, own.space ? rowId(own.space) : null];
      const rows: Record<string, unknown> = {
        organizations: await db.query(`SELECT * FROM organizations WHERE id = $1`, [org]),
        tenants: await db.query(
          `SELECT * FROM tenants WHERE organization_id = $1 AND id IS DISTINCT FROM $2 ORDER BY id`,
          params.slice(0, 2),
        ),
        spaces: await db.query(
          `SELECT * FROM spaces WHERE organization_id = $1 AND tenant_id IS DISTINCT FROM $2 AND id IS DISTINCT FROM $3 ORDER BY id`,
          params,
        ),
        assets: await db.query(
          `SELECT * FROM assets WHERE organization_id = $1 ${notOwn} ORDER BY id`,
          params,
        ),
        presets: await db.query(
          `SELECT * FROM presets WHERE organization_id = $1 ${notOwn} ORDER BY id`,
          params,
        ),
        apiKeys: await db.query(
          `SELECT id, name, scopes, tenant_id, space_id, expires_at, revoked_at, secret_hash FROM api_keys WHERE organization_id = $1 ${notOwn} ORDER BY id`,
          params,
        ),
        signingKeys: await db.query(`SELECT * FROM signing_keys WHERE organization_id = $1 ORDER BY id`, [
          org,
        ]),
        uploads: await db.query(
          `SELECT * FROM uploads WHERE organization_id = $1 ${notOwn} ORDER BY id`,
          params,
        ),
        variants: await db.query(
          `SELECT v.* FROM variants v JOIN spaces s ON s.id = v.space_id WHERE s.organization_id = $1 AND s.tenant_id IS DISTINCT FROM $2 AND s.id IS DISTINCT FROM $3 ORDER BY v.id`,
          params,
        ),
      };
      const objects: string[] = [];
      for await (const object of t.tessera.store.list('originals/')) objects.push(object.key);
      return JSON.stringify({ rows, objects: objects.sort() });
    }

    beforeAll(async () => {
      t = await startTestTessera({ env: { ...JOBS_OFF, RATE_LIMIT_GRAPHQL_PER_MINUTE: '0' } });
      victim = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
        organization: `Victim ${suffix}`,
        tenant: `Victim brand ${suffix}`,
        space: `Victim media ${suffix}`,
      });
      const v = as(victim.apiKey);
      const t2 = dataOf(
        await v.gql<{ createTenant: { id: string; slug: string } }>(
          `mutation($n: String!) { createTenant(input: { name: $n }) { id slug } }`,
          { n: `Victim other brand ${suffix}` },
        ),
      ).createTenant;
      const space = async (tenantId: string, name: string) =>
        dataOf(
          await v.gql<{ createSpace: { id: string; slug: string } }>(
            `mutation($t: ID!, $n: String!) { createSpace(input: { tenantId: $t, name: $n }) { id slug } }`,
            { t: tenantId, n: name },
          ),
        ).createSpace;
      const s2 = await space(victim.tenantId, `Victim second media ${suffix}`);
      const s3 = await space(t2.id, `Victim other media ${suffix}`);
      const assetPublic = dataOf(
        await uploadAsset(
          t,
          { bytes: fixture('rocket.jpg'), filename: `victim-rocket-${suffix}.jpg` },
          { spaceId: victim.spaceId, tags: [`victim-tag-${suffix}`] },
          victim.apiKey,
        ),
      ).uploadAsset;
      const assetPrivate = dataOf(
        await uploadAsset(
          t,
          { bytes: fixture('chelsea.png'), filename: `victim-secret-${suffix}.png` },
          { spaceId: victim.spaceId, access: 'PRIVATE' },
          victim.apiKey,
        ),
      ).uploadAsset;
      const preset = async (spaceId: string | null, name: string, slug: string) =>
        dataOf(
          await v.gql<{ createPreset: { id: string } }>(
            `mutation($i: CreatePresetInput!) { createPreset(input: $i) { id } }`,
            { i: { spaceId, name, slug, transform: { width: 77 } } },
          ),
        ).createPreset.id;
      const key = async (input: Record<string, unknown>) =>
        dataOf(
          await v.gql<{ createApiKey: { token: string; apiKey: { id: string } } }>(
            `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { token apiKey { id } } }`,
            { i: input },
          ),
        ).createApiKey;
      const spaceRead = await key({
        name: `victim-reader-${suffix}`,
        scopes: ['ASSETS_READ'],
        spaceId: victim.spaceId,
      });
      const tenantAdmin = await key({
        name: `victim-tenant-admin-${suffix}`,
        scopes: ['ADMIN'],
        tenantId: victim.tenantId,
      });
      const attackerTenant = await key({
        name: `other-tenant-admin-${suffix}`,
        scopes: ['ADMIN'],
        tenantId: t2.id,
      });
      const attackerSpace = await key({
        name: `other-space-admin-${suffix}`,
        scopes: ['ADMIN'],
        spaceId: s2.id,
      });
      const admin = dataOf(
        await v.gql<{ viewer: { apiKey: { id: string } } }>(`{ viewer { apiKey { id } } }`),
      ).viewer.apiKey.id;
      const upload = dataOf(
        await v.gql<{ createUpload: { uploadId: string } }>(
          `mutation($s: ID!, $f: String!) { createUpload(input: { spaceId: $s, filename: $f, contentType: "image/jpeg", bytes: 1000 }) { uploadId } }`,
          { s: victim.spaceId, f: `victim-upload-${suffix}.jpg` },
        ),
      ).createUpload.uploadId;
      const variant = dataOf(
        await v.gql<{ transformAsset: { id: string } }>(
          `mutation($a: ID!) { transformAsset(assetId: $a, transform: { width: 50 }) { id } }`,
          { a: assetPublic.id },
        ),
      ).transformAsset.id;
      Object.assign(world, {
        t2: t2.id,
        s2: s2.id,
        s3: s3.id,
        assetPublic,
        assetPrivate,
        presetSpace: await preset(victim.spaceId, `Victim preset ${suffix}`, 'victim-preset'),
        presetOrganization: await preset(null, `Victim organization preset ${suffix}`, 'victim-org-preset'),
        upload,
        keys: {
          admin,
          spaceRead: spaceRead.apiKey.id,
          tenantAdmin: tenantAdmin.apiKey.id,
          attackerTenant: attackerTenant.apiKey.id,
          attackerSpace: attackerSpace.apiKey.id,
        },
        tokens: {
          spaceRead: spaceRead.token,
          attackerTenant: attackerTenant.token,
          attackerSpace: attackerSpace.token,
        },
        variant,
        kid: (await signerOf(t, victim.organizationId)).kid,
        slugs: { t2: t2.slug, s2: s2.slug },
      });

      // what lives in the victim's space S1 (and its tenant T1, for those outside it)
      const spaceSecrets = [
        victim.spaceId,
        assetPublic.id,
        assetPrivate.id,
        assetPublic.sha256,
        assetPrivate.sha256,
        `victim-rocket-${suffix}`,
        `victim-secret-${suffix}`,
        `victim-tag-${suffix}`,
        `Victim media ${suffix}`,
        world.presetSpace,
        `Victim preset ${suffix}`,
        upload,
        `victim-upload-${suffix}`,
        variant,
        world.keys.spaceRead,
        `victim-reader-${suffix}`,
        world.keys.tenantAdmin,
        `victim-tenant-admin-${suffix}`,
        world.keys.admin,
      ];
      const tenantSecrets = [
        ...spaceSecrets,
        victim.tenantId,
        `Victim brand ${suffix}`,
        s2.id,
        `Victim second media ${suffix}`,
      ];
      const ids = (over: Partial<Record<IdKind, string>>): Record<IdKind, string> => ({
        organization: victim.organizationId,
        tenant: victim.tenantId,
        space: victim.spaceId,
        asset: assetPrivate.id,
        preset: world.presetSpace,
        apiKey: world.keys.tenantAdmin,
        upload,
        variant,
        ...over,
      });
      principals.push(
        {
          name: "another organization's admin",
          key: t.boot.apiKey,
          ids: ids({}),
          secrets: [
            ...tenantSecrets,
            victim.organizationId,
            `Victim ${suffix}`,
            t2.id,
            s3.id,
            world.presetOrganization,
            `Victim organization preset ${suffix}`,
            world.kid,
            world.keys.attackerTenant,
            world.keys.attackerSpace,
          ],
        },
        {
          name: "another tenant's admin",
          key: attackerTenant.token,
          ids: ids({}),
          secrets: [...tenantSecrets, world.keys.attackerSpace],
          own: { tenant: t2.id },
        },
        {
          name: 'an admin key bound to another space',
          key: attackerSpace.token,
          ids: ids({ tenant: t2.id }),
          secrets: [...spaceSecrets, t2.id, s3.id, `Victim other brand ${suffix}`, world.keys.attackerTenant],
          own: { space: s2.id },
        },
        {
          name: 'a read-only key of the victim space (lacking write and admin scopes)',
          key: spaceRead.token,
          ids: ids({}),
          secrets: [],
          lacksScope: { ownKeyId: world.keys.spaceRead },
        },
      );
      schema = dataOf(await t.gql<{ __schema: IntrospectedSchema }>(INTROSPECTION_QUERY)).__schema;
    }, 120_000);
    afterAll(async () => t?.close());

    it('introspects every operation and builds a call of each', () => {
      const cases = operationCases(schema, (kind) => UNKNOWN[kind]);
      const fields = new Set(cases.map((c) => `${c.kind} ${c.field}`));
      const declared = [
        ...schema.types
          .find((ty) => ty.name === schema.queryType.name)!
          .fields!.map((f) => `query ${f.name}`),
        ...schema.types
          .find((ty) => ty.name === schema.mutationType!.name)!
          .fields!.map((f) => `mutation ${f.name}`),
      ];
      expect([...fields].sort()).toEqual(declared.sort());
      // the operations a tenancy leak would most likely hide in are among them
      for (const op of [
        'query asset',
        'query node',
        'mutation updateAsset',
        'mutation replaceAsset',
        'mutation revokeApiKey',
      ])
        expect(fields).toContain(op);
    });

    it.each([0, 1, 2, 3])(
      'principal %i: no operation reaches the victim, and the victim is unchanged',
      async (index) => {
        const principal = principals[index]!;
        const before = await victimState(principal.own);
        const cases = operationCases(schema, (kind) => principal.ids[kind]);
        const unknownCases = operationCases(schema, (kind) => UNKNOWN[kind]);
        // queries first, then mutations; deletions last, so that a wrongful one cannot hide the others
        const order = (c: OperationCase) => (c.kind === 'query' ? 0 : c.field.startsWith('delete') ? 2 : 1);
        const indexed = cases
          .map((c, i) => ({ c, unknown: unknownCases[i]! }))
          .sort((a, b) => order(a.c) - order(b.c));
        const problems: string[] = [];
        let refused = 0;
        for (const { c, unknown } of indexed) {
          const label = `${principal.name}: ${c.kind} ${c.field} with ${c.ids.join(', ') || 'no ids'}`;
          const res = await send(c, principal.key);
          const codes = codesOf(res);
          const data = (res.data ?? {})[c.field] ?? null;
          if (codes.some((code) => REFUSALS.has(code))) refused += 1;
          if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) {
            problems.push(`${label}: ${res.status} ${JSON.stringify(res.errors)}`);
            continue;
          }
          if (principal.lacksScope) {
            if (c.kind === 'mutation' && (data !== null || codes.join() !== 'FORBIDDEN'))
              problems.push(
                `${label}: a mutation without the scope answered ${JSON.stringify({ codes, data })}`,
              );
            for (const object of objectsIn(data)) {
              const typename = String(object.__typename);
              if (
                ADMIN_ONLY_TYPES.has(typename) &&
                !(typename === 'ApiKey' && object.id === principal.lacksScope.ownKeyId)
              )
                problems.push(`${label}: showed a ${typename} ${JSON.stringify(object).slice(0, 200)}`);
            }
            continue;
          }
          const shown = JSON.stringify(data);
          const leaked = principal.secrets.filter((secret) => shown.includes(secret));
          if (leaked.length > 0)
            problems.push(`${label}: answered the victim's ${leaked.join(', ')}: ${shown.slice(0, 300)}`);
          const messages = JSON.stringify((res.errors ?? []).map((e) => e.message));
          const named = principal.secrets.filter(
            (s) => !/^[a-z]{3}_[0-9a-f]{32}$/.test(s) && messages.includes(s),
          );
          if (named.length > 0) problems.push(`${label}: an error message named ${named.join(', ')}`);
          if (codes.some((code) => !REFUSALS.has(code)) && c.ids.length > 0)
            problems.push(
              `${label}: refused with ${codes.join(', ')}: ${JSON.stringify(res.errors).slice(0, 300)}`,
            );
          if (c.ids.length > 0 && c.kind === 'mutation' && data !== null && codes.length === 0) {
            // a mutation that took a foreign id and succeeded must have changed nothing of the victim's:
            // the snapshot below says; say which one did it
            problems.push(`${label}: succeeded with the victim's ids: ${shown.slice(0, 300)}`);
          }
          if (c.ids.length > 0) {
            const other = codesOf(await send(unknown, principal.key));
            if (other.join() !== codes.join())
              problems.push(
                `${label}: answered ${codes.join() || 'data'}, an unknown id ${other.join() || 'data'}`,
              );
          }
        }
        expect(problems).toEqual([]);
        // the walk reached the operations: most answers were refusals of the victim's ids
        expect(new Set(cases.map((c) => c.field)).size).toBe(
          schema.types
            .filter((ty) => ty.name === schema.queryType.name || ty.name === schema.mutationType?.name)
            .reduce((n, ty) => n + (ty.fields?.length ?? 0), 0),
        );
        expect({ refused: refused > cases.length / 2, of: cases.length }).toEqual({
          refused: true,
          of: cases.length,
        });
        expect(await victimState(principal.own)).toBe(before);
      },
      120_000,
    );

    it("serves no other tenant's image under swapped slugs, exactly as for an unknown asset", async () => {
      const org = victim.organization;
      const original = (slugs: string[], asset: AssetView, file: string, access = 'pub') =>
        `${t.baseUrl}/v1/${access}/${slugs.join('/')}/img/${asset.id}/v${asset.version}/${file}`;
      const victimSlugs = [org, victim.tenant, victim.space];
      const mine = [t.boot.organization, t.boot.tenant, t.boot.space];
      const swaps: [string, string[]][] = [
        ['organization', [mine[0]!, victim.tenant, victim.space]],
        ['tenant', [org, mine[1]!, victim.space]],
        ['space', [org, victim.tenant, mine[2]!]],
        ['all three', mine],
        ["the victim's other tenant", [org, world.slugs.t2, victim.space]],
        ["the victim's other space", [org, victim.tenant, world.slugs.s2]],
      ];
      const status = async (url: string) => {
        const res = await fetch(url, { redirect: 'manual' });
        const body = await res.text();
        return {
          status: res.status,
          code: res.status === 200 ? 'image' : (JSON.parse(body) as { code: string }).code,
        };
      };
      // control: the victim's own URLs work, so the refusals below are about the swaps
      expect(await status(original(victimSlugs, world.assetPublic, 'w_120-fmt_jpg.jpg'))).toEqual({
        status: 200,
        code: 'image',
      });
      const victimSigner = await signerOf(t, victim.organizationId);
      const mySigner = await signerOf(t, t.boot.organizationId);
      const exp = Math.floor(Date.now() / 1000) + 600;
      const signed = (slugs: string[], asset: AssetView, signer: typeof mySigner) =>
        signedImageUrl(
          t.baseUrl,
          { org: slugs[0]!, tenant: slugs[1]!, space: slugs[2]!, assetId: asset.id, version: asset.version },
          'w_120-fmt_jpg.jpg',
          signer,
          exp,
        );
      expect(await status(signed(victimSlugs, world.assetPrivate, victimSigner))).toEqual({
        status: 200,
        code: 'image',
      });

      const problems: string[] = [];
      const unknownAsset = { ...world.assetPublic, id: UNKNOWN.asset };
      for (const [what, slugs] of swaps) {
        for (const file of ['w_120-fmt_jpg.jpg', 'original.jpg', 'preset_victim-preset.webp']) {
          const got = await status(original(slugs, world.assetPublic, file));
          const expected = await status(original(slugs, unknownAsset, file));
          if (got.status !== 404 || JSON.stringify(got) !== JSON.stringify(expected))
            problems.push(
              `public asset, ${what} swapped, ${file}: ${JSON.stringify(got)} (unknown asset: ${JSON.stringify(expected)})`,
            );
        }
        // a private asset under swapped slugs, signed by the swapped-in organization's key or by the victim's
        for (const [who, signer] of [
          ['my key', mySigner],
          ["the victim's key", victimSigner],
        ] as const) {
          const got = await status(signed(slugs, world.assetPrivate, signer));
          const expected = await status(signed(slugs, { ...world.assetPrivate, id: UNKNOWN.asset }, signer));
          if (got.status === 200 || JSON.stringify(got) !== JSON.stringify(expected))
            problems.push(
              `private asset, ${what} swapped, signed with ${who}: ${JSON.stringify(got)} (unknown: ${JSON.stringify(expected)})`,
            );
        }
      }
      // the victim's own slugs, signed with another organization's key
      const forged = await status(signed(victimSlugs, world.assetPrivate, mySigner));
      if (forged.status === 200 || forged.code !== 'FORBIDDEN')
        problems.push(`forged with my key: ${JSON.stringify(forged)}`);
      expect(problems).toEqual([]);
    });
  },
);
