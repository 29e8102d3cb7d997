import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { codes, freePort, startTestTessera, type TestTessera } from '../support/tessera.js';

const VIEWER = '{ viewer { kind actorId scopes space { id } } }';

describe('JWT bearer tokens verified with a JWKS URL', () => {
  let t: TestTessera;
  let jwks: Server;
  let privateKey: CryptoKey;
  let strangerKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    const port = await freePort();
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(port, '127.0.0.1', resolve));
    t = await startTestTessera({
      env: {
        JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        JWT_AUDIENCE: 'tessera',
        JWT_ISSUER: 'https://id.test',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    jwks?.close();
  });

  const token = (claims: Record<string, unknown>, key: CryptoKey = privateKey, audience = 'tessera') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setSubject('user-7')
      .setIssuer('https://id.test')
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(key);

  it('maps a valid token to its principal', async () => {
    const res = await t.gql<{
      viewer: { kind: string; actorId: string; scopes: string[]; space: { id: string } };
    }>(
      VIEWER,
      {},
      await token({
        org: t.boot.organizationId,
        tenant: t.boot.tenantId,
        space: t.boot.spaceId,
        scope: 'assets:write',
      }),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toEqual({
      kind: 'JWT',
      actorId: 'user-7',
      scopes: ['ASSETS_READ', 'ASSETS_WRITE'],
      space: { id: t.boot.spaceId },
    });
  });

  it('refuses a token signed by another key, for another audience, or without scopes', async () => {
    const claims = { org: t.boot.organizationId, scope: 'admin' };
    expect(codes(await t.gql(VIEWER, {}, await token(claims, strangerKey)))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(VIEWER, {}, await token(claims, privateKey, 'someone-else')))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(
      codes(await t.gql(VIEWER, {}, await token({ org: t.boot.organizationId, scope: 'openid profile' }))),
    ).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps API keys working beside tokens', async () => {
    const res = await t.gql<{ viewer: { kind: string } }>(VIEWER);
    expect(res.data?.viewer.kind).toBe('API_KEY');
  });
});
