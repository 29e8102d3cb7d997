import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './columns.js';

/** Usage of one space on one day (UTC). */
@Entity({ name: 'usage_daily' })
export class UsageDayEntity {
  @PrimaryColumn('uuid', { name: 'space_id' }) spaceId: string;
  @PrimaryColumn('date') day: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('bigint', { transformer: bigintAsNumber }) requests: number;
  @Column('bigint', { name: 'bytes_served', transformer: bigintAsNumber }) bytesServed: number;
  @Column('bigint', { transformer: bigintAsNumber }) renders: number;
  @Column('bigint', { name: 'render_ms', transformer: bigintAsNumber }) renderMs: number;
  @Column('bigint', { transformer: bigintAsNumber }) uploads: number;
  @Column('bigint', { name: 'stored_bytes', transformer: bigintAsNumber }) storedBytes: number;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
