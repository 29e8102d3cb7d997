import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './columns.js';
import type { Access } from './space.entity.js';

export type UploadStatus = 'pending' | 'completed' | 'failed';

/** A presigned direct upload, from `createUpload` until `completeUpload`. */
@Entity({ name: 'uploads' })
export class UploadEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'space_id' }) spaceId: string;
  @Column('text') filename: string;
  @Column('text', { name: 'content_type' }) contentType: string;
  @Column('bigint', { transformer: bigintAsNumber }) bytes: number;
  @Column('text', { name: 'storage_key' }) storageKey: string;
  @Column('text') status: UploadStatus;
  @Column('text', { nullable: true }) access: Access | null;
  @Column('text', { array: true }) tags: string[];
  @Column('text') folder: string;
  @Column('uuid', { name: 'asset_id', nullable: true }) assetId: string | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
}
