import type { DataSource } from 'typeorm';
import { UploadEntity, VariantEntity } from '../db/entities/index.js';
import type { Logger } from '../observability/logger.js';
import type { ObjectStore } from '../storage/object-store.js';

export const MAINTENANCE_JOB = 'maintenance.run';

/** Pending uploads are kept this long past their expiry before their staged files are removed. */
const UPLOAD_GRACE_MS = 24 * 3600 * 1000;
const BATCH = 500;

/**
 * Periodic housekeeping, run as a job (one per interval across all nodes): prunes variants not
 * served for `variantRetentionDays` (objects first, then rows: a crash between leaves a row the
 * image endpoint heals by rendering again), and removes the staged files of abandoned uploads.
 */
export class Maintenance {
  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    private readonly options: { variantRetentionDays: number },
  ) {}

  async run(now: Date = new Date()): Promise<{ prunedVariants: number; expiredUploads: number }> {
    const prunedVariants = this.options.variantRetentionDays > 0 ? await this.pruneVariants(now) : 0;
    const expiredUploads = await this.expireUploads(now);
    if (prunedVariants + expiredUploads > 0)
      this.logger.info({ prunedVariants, expiredUploads }, 'maintenance done');
    return { prunedVariants, expiredUploads };
  }

  /** Deletes variants not served (nor made) within the retention period. */
  async pruneVariants(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.options.variantRetentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const stale = await this.db
        .getRepository(VariantEntity)
        .createQueryBuilder('v')
        .where('coalesce(v.last_accessed_at, v.created_at) < :cutoff', { cutoff })
        .orderBy('v.created_at', 'ASC')
        .limit(BATCH)
        .getMany();
      if (stale.length === 0) return total;
      await this.store.deleteMany(stale.map((v) => v.storageKey));
      await this.db.getRepository(VariantEntity).delete(stale.map((v) => v.id));
      total += stale.length;
      if (stale.length < BATCH) return total;
    }
  }

  /** Marks uploads never completed as failed and removes whatever was staged for them. */
  async expireUploads(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - UPLOAD_GRACE_MS);
    const abandoned = await this.db
      .getRepository(UploadEntity)
      .createQueryBuilder('u')
      .where(`u.status = 'pending' AND u.expires_at < :cutoff`, { cutoff })
      .limit(BATCH)
      .getMany();
    if (abandoned.length === 0) return 0;
    await this.store.deleteMany(abandoned.map((u) => u.storageKey));
    await this.db
      .createQueryBuilder()
      .update(UploadEntity)
      .set({ status: 'failed', errorCode: 'EXPIRED', completedAt: now })
      .where(`id IN (:...ids) AND status = 'pending'`, { ids: abandoned.map((u) => u.id) })
      .execute();
    return abandoned.length;
  }
}
