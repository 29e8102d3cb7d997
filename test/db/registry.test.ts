import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { uuidv7 } from '../../src/db/ids.js';
import { registryKinds, openTestRegistry, type TestRegistry } from '../support/registry.js';

/** Postgres error code of a failed statement (23503 foreign key, 23505 unique, 23514 check). */
async function sqlState(db: DataSource, sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await db.query(sql, params);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

const hex64 = () => randomBytes(32).toString('hex');

describe.each(registryKinds)('registry on %s', (kind) => {
  let test: TestRegistry;
  let db: DataSource;
  const org = uuidv7();
  const otherOrg = uuidv7();
  const tenant = uuidv7();
  const otherTenant = uuidv7();
  const space = uuidv7();

  beforeAll(async () => {
    test = await openTestRegistry(kind, { migrate: false });
    db = test.registry.dataSource;
  }, 120_000);
  afterAll(async () => test?.close());

  it('migrates up from an empty database, and again is a no-op', async () => {
    const before = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(before[0].n).toBe(0);
    const applied = await db.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual([
      'InitialSchema1764000000000',
      'Usage1764100000000',
      'OrganizationSettings1764200000000',
    ]);
    expect(await db.runMigrations({ transaction: 'each' })).toEqual([]);
    const tables = (
      await db.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      )
    ).map((r: { table_name: string }) => r.table_name);
    expect(tables).toEqual([
      'api_keys',
      'assets',
      'audit_log',
      'migrations',
      'organizations',
      'presets',
      'signing_keys',
      'spaces',
      'tenants',
      'uploads',
      'usage_daily',
      'variants',
    ]);
  });

  if (kind === 'pglite')
    it('keeps PGlite small: its memory is never given back, so shared buffers are 16 MB, not 128', async () => {
      const [{ shared_buffers: buffers }] = (await db.query('SHOW shared_buffers')) as {
        shared_buffers: string;
      }[];
      expect(buffers).toBe('16MB');
    });

  it('holds the tenancy tree together with foreign keys', async () => {
    await db.query(
      `INSERT INTO organizations (id, slug, name) VALUES ($1, 'acme', 'Acme'), ($2, 'globex', 'Globex')`,
      [org, otherOrg],
    );
    await db.query(`INSERT INTO tenants (id, organization_id, slug, name) VALUES ($1, $2, 'shop', 'Shop')`, [
      tenant,
      org,
    ]);
    await db.query(`INSERT INTO tenants (id, organization_id, slug, name) VALUES ($1, $2, 'shop', 'Shop')`, [
      otherTenant,
      otherOrg,
    ]);
    // a tenant of an unknown organization
    expect(
      await sqlState(db, `INSERT INTO tenants (id, organization_id, slug, name) VALUES ($1, $2, 'x', 'X')`, [
        uuidv7(),
        uuidv7(),
      ]),
    ).toBe('23503');
    // a space whose organization is not its tenant's organization
    expect(
      await sqlState(
        db,
        `INSERT INTO spaces (id, organization_id, tenant_id, slug, name) VALUES ($1, $2, $3, 'media', 'Media')`,
        [uuidv7(), otherOrg, tenant],
      ),
    ).toBe('23503');
    await db.query(
      `INSERT INTO spaces (id, organization_id, tenant_id, slug, name) VALUES ($1, $2, $3, 'media', 'Media')`,
      [space, org, tenant],
    );
  });

  it('keeps slugs unique per parent and well-formed', async () => {
    expect(
      await sqlState(
        db,
        `INSERT INTO tenants (id, organization_id, slug, name) VALUES ($1, $2, 'shop', 'Again')`,
        [uuidv7(), org],
      ),
    ).toBe('23505');
    expect(
      await sqlState(
        db,
        `INSERT INTO spaces (id, organization_id, tenant_id, slug, name) VALUES ($1, $2, $3, 'media', 'Again')`,
        [uuidv7(), org, tenant],
      ),
    ).toBe('23505');
    expect(
      await sqlState(db, `INSERT INTO organizations (id, slug, name) VALUES ($1, 'Not A Slug', 'x')`, [
        uuidv7(),
      ]),
    ).toBe('23514');
  });

  it('checks enumerated columns', async () => {
    expect(
      await sqlState(
        db,
        `INSERT INTO spaces (id, organization_id, tenant_id, slug, name, transform_policy) VALUES ($1, $2, $3, 'p', 'P', 'whatever')`,
        [uuidv7(), org, tenant],
      ),
    ).toBe('23514');
    expect(
      await sqlState(
        db,
        `INSERT INTO api_keys (id, key_id, secret_hash, name, organization_id, scopes) VALUES ($1, 'abcdefghijklmnop', $2, 'k', $3, ARRAY['root'])`,
        [uuidv7(), randomBytes(32), org],
      ),
    ).toBe('23514');
    expect(
      await sqlState(
        db,
        `INSERT INTO signing_keys (id, organization_id, kid, secret, status) VALUES ($1, $2, 'abcdefgh', $3, 'lost')`,
        [uuidv7(), org, randomBytes(32)],
      ),
    ).toBe('23514');
  });

  it('binds an API key inside its own organization and tenant', async () => {
    const insertKey = (tenantId: string | null, spaceId: string | null) =>
      sqlState(
        db,
        `INSERT INTO api_keys (id, key_id, secret_hash, name, organization_id, tenant_id, space_id, scopes) VALUES ($1, $2, $3, 'k', $4, $5, $6, ARRAY['assets:read'])`,
        [uuidv7(), randomBytes(8).toString('hex'), randomBytes(32), org, tenantId, spaceId],
      );
    expect(await insertKey(otherTenant, null)).toBe('23503');
    expect(await insertKey(null, space)).toBe('23514');
    expect(await insertKey(tenant, space)).toBeUndefined();
  });

  it('allows one asset per content hash in a space and one variant per key', async () => {
    const insertAsset = (sha: string) => {
      const id = uuidv7();
      return db
        .query(
          `INSERT INTO assets (id, organization_id, tenant_id, space_id, filename, mime_type, format, width, height, bytes, sha256, has_alpha, placeholder, access, storage_key)
           VALUES ($1, $2, $3, $4, 'a.jpg', 'image/jpeg', 'jpeg', 10, 10, 100, $5, false, '{}', 'public', 'k')`,
          [id, org, tenant, space, sha],
        )
        .then(() => id);
    };
    const sha = hex64();
    const asset = await insertAsset(sha);
    await expect(insertAsset(sha)).rejects.toMatchObject({ code: '23505' });
    // a soft-deleted asset frees its hash
    await db.query(`UPDATE assets SET deleted_at = now() WHERE id = $1`, [asset]);
    const again = await insertAsset(sha);

    const insertVariant = (key: string, canonical: string) =>
      sqlState(
        db,
        `INSERT INTO variants (id, asset_id, space_id, asset_version, canonical, format, variant_key, storage_key, bytes, sha256, width, height, processing_ms)
         VALUES ($1, $2, $3, 1, $4, 'webp', $5, 'v', 10, $6, 5, 5, 1)`,
        [uuidv7(), again, space, canonical, key, hex64()],
      );
    const key = hex64();
    expect(await insertVariant(key, 'w_5-fmt_webp')).toBeUndefined();
    expect(await insertVariant(key, 'w_6-fmt_webp')).toBe('23505');
    expect(await insertVariant(hex64(), 'w_5-fmt_webp')).toBe('23505');
    expect(await sqlState(db, `UPDATE assets SET access = 'secret' WHERE id = $1`, [again])).toBe('23514');
  });

  it('deletes a whole organization with everything under it', async () => {
    await db.query(`DELETE FROM organizations WHERE id = $1`, [org]);
    for (const table of ['tenants', 'spaces', 'api_keys', 'assets', 'variants']) {
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE ${table === 'variants' ? 'space_id' : 'organization_id'} = $1`,
        [table === 'variants' ? space : org],
      );
      expect({ table, n }).toEqual({ table, n: 0 });
    }
  });
});
