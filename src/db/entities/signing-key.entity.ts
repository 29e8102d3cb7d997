import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type SigningKeyStatus = 'active' | 'retiring' | 'retired';

/** An HMAC key for private image URLs; rotated keys keep verifying until `verifyUntil`. */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('text') kid: string;
  @Column('bytea') secret: Buffer;
  @Column('text') status: SigningKeyStatus;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'retired_at', nullable: true }) retiredAt: Date | null;
  @Column('timestamptz', { name: 'verify_until', nullable: true }) verifyUntil: Date | null;
}
