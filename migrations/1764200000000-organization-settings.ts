import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Organizations get settings (quotas) like spaces have. */
export class OrganizationSettings1764200000000 implements MigrationInterface {
  name = 'OrganizationSettings1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(
      `CREATE INDEX assets_space_live_bytes ON assets (space_id) INCLUDE (bytes) WHERE deleted_at IS NULL`,
    );
    await q.query(`CREATE INDEX variants_space_bytes ON variants (space_id) INCLUDE (bytes)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS variants_space_bytes`);
    await q.query(`DROP INDEX IF EXISTS assets_space_live_bytes`);
    await q.query(`ALTER TABLE organizations DROP COLUMN settings`);
  }
}
