import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole registry: tenancy (organizations → tenants → spaces), credentials, assets and their
 * variants, presets, pending uploads and the audit log. Integrity lives in the database: foreign
 * keys (composite where they also pin the organization or tenant), unique slugs and variant keys,
 * and check constraints on every enumerated column.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        slug text NOT NULL UNIQUE CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL CONSTRAINT organizations_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        slug text NOT NULL CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL CONSTRAINT tenants_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_organization_slug UNIQUE (organization_id, slug),
        CONSTRAINT tenants_organization_id UNIQUE (organization_id, id)
      )`);
    await q.query(`
      CREATE TABLE spaces (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        slug text NOT NULL CONSTRAINT spaces_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL CONSTRAINT spaces_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        default_access text NOT NULL DEFAULT 'public' CONSTRAINT spaces_default_access CHECK (default_access IN ('public', 'private')),
        transform_policy text NOT NULL DEFAULT 'any' CONSTRAINT spaces_transform_policy CHECK (transform_policy IN ('any', 'presets', 'signed')),
        keep_gps boolean NOT NULL DEFAULT false,
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT spaces_tenant FOREIGN KEY (organization_id, tenant_id) REFERENCES tenants (organization_id, id) ON DELETE CASCADE,
        CONSTRAINT spaces_tenant_slug UNIQUE (tenant_id, slug),
        CONSTRAINT spaces_tenant_id UNIQUE (tenant_id, id)
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        key_id text NOT NULL UNIQUE CONSTRAINT api_keys_key_id_format CHECK (key_id ~ '^[0-9a-z]{16}$'),
        secret_hash bytea NOT NULL CONSTRAINT api_keys_secret_hash_length CHECK (octet_length(secret_hash) = 32),
        name text NOT NULL CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        tenant_id uuid,
        space_id uuid,
        scopes text[] NOT NULL CONSTRAINT api_keys_scopes CHECK (
          cardinality(scopes) > 0 AND scopes <@ ARRAY['assets:read', 'assets:write', 'presets:write', 'admin']::text[]),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT api_keys_tenant FOREIGN KEY (organization_id, tenant_id) REFERENCES tenants (organization_id, id) ON DELETE CASCADE,
        CONSTRAINT api_keys_space FOREIGN KEY (tenant_id, space_id) REFERENCES spaces (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT api_keys_space_needs_tenant CHECK (space_id IS NULL OR tenant_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE signing_keys (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        kid text NOT NULL UNIQUE CONSTRAINT signing_keys_kid_format CHECK (kid ~ '^[0-9a-z]{8,32}$'),
        secret bytea NOT NULL CONSTRAINT signing_keys_secret_length CHECK (octet_length(secret) >= 32),
        status text NOT NULL CONSTRAINT signing_keys_status CHECK (status IN ('active', 'retiring', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        verify_until timestamptz,
        CONSTRAINT signing_keys_retiring_has_deadline CHECK (status = 'active' OR verify_until IS NOT NULL)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (organization_id) WHERE status = 'active'`,
    );
    await q.query(`
      CREATE TABLE assets (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        space_id uuid NOT NULL,
        version integer NOT NULL DEFAULT 1 CONSTRAINT assets_version_positive CHECK (version >= 1),
        filename text NOT NULL CONSTRAINT assets_filename_length CHECK (char_length(filename) BETWEEN 1 AND 255),
        mime_type text NOT NULL,
        format text NOT NULL CONSTRAINT assets_format CHECK (format IN ('jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heif')),
        width integer NOT NULL CONSTRAINT assets_width_positive CHECK (width > 0),
        height integer NOT NULL CONSTRAINT assets_height_positive CHECK (height > 0),
        pages integer NOT NULL DEFAULT 1 CONSTRAINT assets_pages_positive CHECK (pages > 0),
        bytes bigint NOT NULL CONSTRAINT assets_bytes_positive CHECK (bytes > 0),
        sha256 text NOT NULL CONSTRAINT assets_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        has_alpha boolean NOT NULL,
        color_space text,
        orientation smallint NOT NULL DEFAULT 1 CONSTRAINT assets_orientation CHECK (orientation BETWEEN 1 AND 8),
        exif jsonb,
        focal_x real CONSTRAINT assets_focal_x CHECK (focal_x BETWEEN 0 AND 1),
        focal_y real CONSTRAINT assets_focal_y CHECK (focal_y BETWEEN 0 AND 1),
        placeholder jsonb NOT NULL,
        dominant_color text CONSTRAINT assets_dominant_color CHECK (dominant_color ~ '^#[0-9a-f]{6}$'),
        tags text[] NOT NULL DEFAULT '{}',
        folder text NOT NULL DEFAULT '' CONSTRAINT assets_folder_format CHECK (folder = '' OR folder ~ '^[^/]+(/[^/]+)*$'),
        access text NOT NULL CONSTRAINT assets_access CHECK (access IN ('public', 'private')),
        storage_key text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT assets_focal_both CHECK ((focal_x IS NULL) = (focal_y IS NULL)),
        CONSTRAINT assets_tenant FOREIGN KEY (organization_id, tenant_id) REFERENCES tenants (organization_id, id) ON DELETE CASCADE,
        CONSTRAINT assets_space FOREIGN KEY (tenant_id, space_id) REFERENCES spaces (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX assets_space_sha256 ON assets (space_id, sha256) WHERE deleted_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX assets_space_created ON assets (space_id, created_at DESC, id DESC) WHERE deleted_at IS NULL`,
    );
    await q.query(`CREATE INDEX assets_tags ON assets USING gin (tags)`);
    await q.query(`CREATE INDEX assets_storage_key ON assets (storage_key)`);
    await q.query(`
      CREATE TABLE presets (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        tenant_id uuid,
        space_id uuid,
        slug text NOT NULL CONSTRAINT presets_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL CONSTRAINT presets_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        operations jsonb NOT NULL,
        canonical text NOT NULL,
        auto_generate boolean NOT NULL DEFAULT false,
        match_tags text[] NOT NULL DEFAULT '{}',
        match_folders text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT presets_tenant FOREIGN KEY (organization_id, tenant_id) REFERENCES tenants (organization_id, id) ON DELETE CASCADE,
        CONSTRAINT presets_space FOREIGN KEY (tenant_id, space_id) REFERENCES spaces (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT presets_scope CHECK ((tenant_id IS NULL) = (space_id IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX presets_space_slug ON presets (space_id, slug) WHERE space_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX presets_organization_slug ON presets (organization_id, slug) WHERE space_id IS NULL`,
    );
    await q.query(`
      CREATE TABLE variants (
        id uuid PRIMARY KEY,
        asset_id uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
        space_id uuid NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
        asset_version integer NOT NULL CONSTRAINT variants_asset_version_positive CHECK (asset_version >= 1),
        canonical text NOT NULL,
        format text NOT NULL CONSTRAINT variants_format CHECK (format IN ('jpg', 'png', 'webp', 'avif', 'gif')),
        variant_key text NOT NULL CONSTRAINT variants_key_format CHECK (variant_key ~ '^[0-9a-f]{64}$'),
        preset_id uuid REFERENCES presets (id) ON DELETE SET NULL,
        storage_key text NOT NULL,
        bytes bigint NOT NULL CONSTRAINT variants_bytes_positive CHECK (bytes > 0),
        sha256 text NOT NULL CONSTRAINT variants_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        width integer NOT NULL CONSTRAINT variants_width_positive CHECK (width > 0),
        height integer NOT NULL CONSTRAINT variants_height_positive CHECK (height > 0),
        processing_ms integer NOT NULL CONSTRAINT variants_processing_ms CHECK (processing_ms >= 0),
        access_count bigint NOT NULL DEFAULT 0,
        last_accessed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT variants_key UNIQUE (variant_key),
        CONSTRAINT variants_asset_version_canonical_format UNIQUE (asset_id, asset_version, canonical, format)
      )`);
    await q.query(`CREATE INDEX variants_asset_created ON variants (asset_id, created_at, id)`);
    await q.query(`CREATE INDEX variants_last_accessed ON variants (last_accessed_at)`);
    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        space_id uuid NOT NULL,
        filename text NOT NULL CONSTRAINT uploads_filename_length CHECK (char_length(filename) BETWEEN 1 AND 255),
        content_type text NOT NULL,
        bytes bigint NOT NULL CONSTRAINT uploads_bytes_positive CHECK (bytes > 0),
        storage_key text NOT NULL UNIQUE,
        status text NOT NULL DEFAULT 'pending' CONSTRAINT uploads_status CHECK (status IN ('pending', 'completed', 'failed')),
        access text CONSTRAINT uploads_access CHECK (access IN ('public', 'private')),
        tags text[] NOT NULL DEFAULT '{}',
        folder text NOT NULL DEFAULT '',
        asset_id uuid REFERENCES assets (id) ON DELETE SET NULL,
        error_code text,
        created_by text,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        CONSTRAINT uploads_tenant FOREIGN KEY (organization_id, tenant_id) REFERENCES tenants (organization_id, id) ON DELETE CASCADE,
        CONSTRAINT uploads_space FOREIGN KEY (tenant_id, space_id) REFERENCES spaces (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT uploads_completed_has_asset CHECK (status <> 'completed' OR asset_id IS NOT NULL OR completed_at IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX uploads_pending_expiry ON uploads (expires_at) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
        tenant_id uuid,
        space_id uuid,
        actor_type text NOT NULL CONSTRAINT audit_log_actor_type CHECK (actor_type IN ('api_key', 'jwt', 'system')),
        actor_id text NOT NULL,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        ip inet,
        user_agent text,
        request_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_organization ON audit_log (organization_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'uploads',
      'variants',
      'presets',
      'assets',
      'signing_keys',
      'api_keys',
      'spaces',
      'tenants',
      'organizations',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
