import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type Access = 'public' | 'private';
/** `any`: ad-hoc transforms allowed; `presets`: only presets; `signed`: ad-hoc only with a signed URL. */
export type TransformPolicy = 'any' | 'presets' | 'signed';

/** Limits of a space or an organization; absent means unlimited. */
export interface Quota {
  /** Originals plus variants stored, bytes. */
  storedBytes?: number;
  /** Live originals. */
  originals?: number;
  /** New renders a day (UTC). */
  rendersPerDay?: number;
  /** Image bytes served a day (UTC). */
  bytesServedPerDay?: number;
}

/** Per-minute limits a space sets for each client address; absent means the server's alone. */
export interface SpaceRateLimits {
  /** Image requests of this space (hits and renders), on top of the server's limit per address. */
  imagesPerMinute?: number;
  /** New renders in this space, on top of the server's limit (a space can lower it, not lift it). */
  rendersPerMinute?: number;
}

/** Per-space settings kept as JSON: each optional, absent means the server default. */
export interface SpaceSettings {
  /** Widths the space serves, ascending (responsive images use only these). */
  widths?: number[];
  /** What an off-ladder `w_` gets: served as asked, a redirect to the next width up, or a refusal. */
  widthPolicy?: 'any' | 'snap' | 'refuse';
  /** Per-minute limits of this space for each client address. */
  rateLimits?: SpaceRateLimits;
  quota?: Quota;
}

/** A library of assets; the unit of access, policy and URL. */
@Entity({ name: 'spaces' })
export class SpaceEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') slug: string;
  @Column('text') name: string;
  @Column('text', { name: 'default_access' }) defaultAccess: Access;
  @Column('text', { name: 'transform_policy' }) transformPolicy: TransformPolicy;
  @Column('boolean', { name: 'keep_gps' }) keepGps: boolean;
  @Column('jsonb') settings: SpaceSettings;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
