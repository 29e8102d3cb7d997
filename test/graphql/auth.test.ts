import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';

const VIEWER = '{ viewer { kind actorId scopes organization { id } tenant { id } space { id } } }';
const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

describe('authentication and scopes', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({ env: { JWT_SECRET, JWT_ISSUER: 'https://issuer.test' } });
  }, 120_000);
  afterAll(async () => t?.close());

  const createKey = async (input: Record<string, unknown>) => {
    const res = await t.gql<{
      createApiKey: { token: string; apiKey: { id: string; keyId: string; scopes: string[] } };
    }>(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { token apiKey { id keyId scopes active } } }`,
      { input },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.createApiKey;
  };

  it('answers the bootstrap key with its principal', async () => {
    const res = await t.gql<{ viewer: { kind: string; scopes: string[]; organization: { id: string } } }>(
      VIEWER,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer.kind).toBe('API_KEY');
    expect(res.data?.viewer.scopes).toEqual(['ADMIN', 'ASSETS_READ', 'ASSETS_WRITE', 'PRESETS_WRITE']);
    expect(res.data?.viewer.organization.id).toBe(t.boot.organizationId);
  });

  it('refuses missing, malformed and unknown keys with UNAUTHENTICATED', async () => {
    expect(codes(await t.gql(VIEWER, {}, null))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(VIEWER, {}, 'nonsense'))).toEqual(['UNAUTHENTICATED']);
    const [, keyId] = t.boot.apiKey.split('_');
    expect(codes(await t.gql(VIEWER, {}, `tsk_${keyId}_${'0'.repeat(64)}`))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(VIEWER, {}, `tsk_zzzzzzzzzzzzzzzz_${'0'.repeat(64)}`))).toEqual([
      'UNAUTHENTICATED',
    ]);
    const raw = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(
      ((await raw.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
    ).toBe('UNAUTHENTICATED');
  });

  it('shows a new key once and stores only its hash', async () => {
    const created = await createKey({ name: 'reader', scopes: ['ASSETS_READ'] });
    expect(created.token).toMatch(/^tsk_[0-9a-z]{16}_[0-9a-f]{64}$/);
    const secret = created.token.split('_')[2]!;
    const rows: { secret_hash: Buffer; key_id: string }[] = await t.tessera.registry.dataSource.query(
      `SELECT secret_hash, key_id FROM api_keys WHERE key_id = $1`,
      [created.apiKey.keyId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash.toString('hex')).not.toContain(secret);
    const dump = JSON.stringify(await t.tessera.registry.dataSource.query(`SELECT * FROM api_keys`));
    expect(dump).not.toContain(secret);
    const listed = await t.gql<{ apiKeys: { edges: { node: Record<string, unknown> }[] } }>(
      `{ apiKeys(first: 50) { edges { node { id keyId name } } } }`,
    );
    expect(JSON.stringify(listed)).not.toContain(secret);
    const viewer = await t.gql<{ viewer: { scopes: string[] } }>(VIEWER, {}, created.token);
    expect(viewer.data?.viewer.scopes).toEqual(['ASSETS_READ']);
  });

  it('refuses an operation outside the key scopes with FORBIDDEN', async () => {
    const reader = await createKey({ name: 'reader', scopes: ['ASSETS_READ'] });
    const res = await t.gql(`mutation { rotateSigningKey { kid } }`, {}, reader.token);
    expect(codes(res)).toEqual(['FORBIDDEN']);
    const grant = await t.gql(
      `mutation { createApiKey(input: { name: "x", scopes: [ADMIN] }) { token } }`,
      {},
      reader.token,
    );
    expect(codes(grant)).toEqual(['FORBIDDEN']);
  });

  it('lets an admin grant only scopes it holds and binds no wider than itself', async () => {
    const spaceAdmin = await createKey({ name: 'space admin', scopes: ['ADMIN'], spaceId: t.boot.spaceId });
    const wider = await t.gql(
      `mutation { createApiKey(input: { name: "org-wide", scopes: [ASSETS_READ] }) { token } }`,
      {},
      spaceAdmin.token,
    );
    expect(codes(wider)).toEqual(['FORBIDDEN']);
    const narrow = await t.gql<{ createApiKey: { token: string } }>(
      `mutation($s: ID!) { createApiKey(input: { name: "same space", scopes: [ASSETS_READ], spaceId: $s }) { token } }`,
      { s: t.boot.spaceId },
      spaceAdmin.token,
    );
    expect(narrow.errors).toBeUndefined();
    const viewer = await t.gql<{ viewer: { space: { id: string } | null } }>(
      VIEWER,
      {},
      narrow.data!.createApiKey.token,
    );
    expect(viewer.data?.viewer.space?.id).toBe(t.boot.spaceId);
  });

  it('revokes a key at once', async () => {
    const key = await createKey({ name: 'soon revoked', scopes: ['ASSETS_READ'] });
    expect(codes(await t.gql(VIEWER, {}, key.token))).toEqual([]);
    const revoke = await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) }`, { id: key.apiKey.id });
    expect(revoke.data).toEqual({ revokeApiKey: true });
    expect(codes(await t.gql(VIEWER, {}, key.token))).toEqual(['UNAUTHENTICATED']);
    // idempotent
    expect((await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) }`, { id: key.apiKey.id })).data).toEqual(
      { revokeApiKey: true },
    );
  });

  it('stops accepting a key when it expires', async () => {
    const key = await createKey({
      name: 'short',
      scopes: ['ASSETS_READ'],
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(codes(await t.gql(VIEWER, {}, key.token))).toEqual([]);
    await new Promise((r) => setTimeout(r, 1800));
    expect(codes(await t.gql(VIEWER, {}, key.token))).toEqual(['UNAUTHENTICATED']);
    const past = await t.gql(
      `mutation { createApiKey(input: { name: "past", scopes: [ASSETS_READ], expiresAt: "2001-01-01T00:00:00Z" }) { token } }`,
    );
    expect(codes(past)).toEqual(['BAD_USER_INPUT']);
  });

  it('maps JWT claims to the same principal', async () => {
    const sign = (claims: Record<string, unknown>, secret = JWT_SECRET, exp: string | number = '5m') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('user-42')
        .setIssuer('https://issuer.test')
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const good = await sign({
      org: t.boot.organizationId,
      tenant: t.boot.tenantId,
      space: t.boot.spaceId,
      scope: 'assets:read',
    });
    const res = await t.gql<{
      viewer: { kind: string; actorId: string; scopes: string[]; space: { id: string } };
    }>(VIEWER, {}, good);
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toMatchObject({
      kind: 'JWT',
      actorId: 'user-42',
      scopes: ['ASSETS_READ'],
      space: { id: t.boot.spaceId },
    });
    expect(
      codes(
        await t.gql(
          VIEWER,
          {},
          await sign({ org: t.boot.organizationId, scope: 'admin' }, 'another-secret-that-is-long-enough'),
        ),
      ),
    ).toEqual(['UNAUTHENTICATED']);
    expect(
      codes(
        await t.gql(
          VIEWER,
          {},
          await sign(
            { org: t.boot.organizationId, scope: 'admin' },
            JWT_SECRET,
            Math.floor(Date.now() / 1000) - 60,
          ),
        ),
      ),
    ).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(VIEWER, {}, await sign({ org: 'org_nope', scope: 'admin' })))).toEqual([
      'UNAUTHENTICATED',
    ]);
    const forbidden = await t.gql(`mutation { rotateSigningKey { kid } }`, {}, good);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
  });
});
