import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintAsNumber, realAsNumber } from './columns.js';
import type { Access } from './space.entity.js';

export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' | 'heif';

/** Placeholder shown while the image loads. */
export interface StoredPlaceholder {
  readonly blurhash: string;
  readonly thumbhash: string;
  readonly lqip: string;
  readonly dominantColor: string;
  readonly width: number;
  readonly height: number;
}

/** An original image. `width`/`height` are after EXIF orientation. */
@Entity({ name: 'assets' })
export class AssetEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'space_id' }) spaceId: string;
  @Column('integer') version: number;
  @Column('text') filename: string;
  @Column('text', { name: 'mime_type' }) mimeType: string;
  @Column('text') format: SourceFormat;
  @Column('integer') width: number;
  @Column('integer') height: number;
  @Column('integer') pages: number;
  @Column('bigint', { transformer: bigintAsNumber }) bytes: number;
  @Column('text') sha256: string;
  @Column('boolean', { name: 'has_alpha' }) hasAlpha: boolean;
  @Column('text', { name: 'color_space', nullable: true }) colorSpace: string | null;
  @Column('smallint') orientation: number;
  /** EXIF as bounded JSON (groups of tags). */
  @Column('jsonb', { nullable: true }) exif: object | null;
  @Column('real', { name: 'focal_x', nullable: true, transformer: realAsNumber }) focalX: number | null;
  @Column('real', { name: 'focal_y', nullable: true, transformer: realAsNumber }) focalY: number | null;
  @Column('jsonb') placeholder: StoredPlaceholder;
  @Column('text', { name: 'dominant_color', nullable: true }) dominantColor: string | null;
  @Column('text', { array: true }) tags: string[];
  @Column('text') folder: string;
  @Column('text') access: Access;
  @Column('text', { name: 'storage_key' }) storageKey: string;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}
