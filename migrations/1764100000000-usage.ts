import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Daily usage per space, written by periodic additive flushes (never once per request). */
export class Usage1764100000000 implements MigrationInterface {
  name = 'Usage1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_daily (
        space_id uuid NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        day date NOT NULL,
        requests bigint NOT NULL DEFAULT 0 CONSTRAINT usage_requests CHECK (requests >= 0),
        bytes_served bigint NOT NULL DEFAULT 0 CONSTRAINT usage_bytes_served CHECK (bytes_served >= 0),
        renders bigint NOT NULL DEFAULT 0 CONSTRAINT usage_renders CHECK (renders >= 0),
        render_ms bigint NOT NULL DEFAULT 0 CONSTRAINT usage_render_ms CHECK (render_ms >= 0),
        uploads bigint NOT NULL DEFAULT 0 CONSTRAINT usage_uploads CHECK (uploads >= 0),
        stored_bytes bigint NOT NULL DEFAULT 0 CONSTRAINT usage_stored_bytes CHECK (stored_bytes >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (space_id, day)
      )`);
    await q.query(`CREATE INDEX usage_daily_organization_day ON usage_daily (organization_id, day)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS usage_daily`);
  }
}
