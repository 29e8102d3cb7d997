import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const SCOPES = ['assets:read', 'assets:write', 'presets:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** An API key: only the SHA-256 of its secret is stored. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text', { name: 'key_id' }) keyId: string;
  @Column('bytea', { name: 'secret_hash' }) secretHash: Buffer;
  @Column('text') name: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('uuid', { name: 'space_id', nullable: true }) spaceId: string | null;
  @Column('text', { array: true }) scopes: Scope[];
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
