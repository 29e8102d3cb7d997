import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A named transform; organization-wide when `spaceId` is null, inherited by every space. */
@Entity({ name: 'presets' })
export class PresetEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('uuid', { name: 'space_id', nullable: true }) spaceId: string | null;
  @Column('text') slug: string;
  @Column('text') name: string;
  /** The canonical plan as JSON. */
  @Column('jsonb') operations: object;
  /** The canonical ops string; part of every variant key made from this preset. */
  @Column('text') canonical: string;
  @Column('boolean', { name: 'auto_generate' }) autoGenerate: boolean;
  @Column('text', { name: 'match_tags', array: true }) matchTags: string[];
  @Column('text', { name: 'match_folders', array: true }) matchFolders: string[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
