import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './columns.js';

export type VariantFormat = 'jpg' | 'png' | 'webp' | 'avif' | 'gif';

/** A rendered, stored transform of one version of an asset. */
@Entity({ name: 'variants' })
export class VariantEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'asset_id' }) assetId: string;
  @Column('uuid', { name: 'space_id' }) spaceId: string;
  @Column('integer', { name: 'asset_version' }) assetVersion: number;
  @Column('text') canonical: string;
  @Column('text') format: VariantFormat;
  @Column('text', { name: 'variant_key' }) variantKey: string;
  @Column('uuid', { name: 'preset_id', nullable: true }) presetId: string | null;
  @Column('text', { name: 'storage_key' }) storageKey: string;
  @Column('bigint', { transformer: bigintAsNumber }) bytes: number;
  @Column('text') sha256: string;
  @Column('integer') width: number;
  @Column('integer') height: number;
  @Column('integer', { name: 'processing_ms' }) processingMs: number;
  @Column('bigint', { name: 'access_count', transformer: bigintAsNumber }) accessCount: number;
  @Column('timestamptz', { name: 'last_accessed_at', nullable: true }) lastAccessedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
