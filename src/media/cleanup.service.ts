import type { DataSource, EntityManager } from 'typeorm';
import {
  AssetEntity,
  OrganizationEntity,
  SpaceEntity,
  TenantEntity,
  VariantEntity,
} from '../db/entities/index.js';
import { toPublicId } from '../ids/index.js';
import type { Logger } from '../observability/logger.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { PurgeHook } from './purge.js';

/** What is left to clean after a change to an asset. */
export type CleanupTask =
  | { readonly kind: 'deleted'; readonly assetId: string }
  | {
      readonly kind: 'replaced';
      readonly assetId: string;
      readonly previousVersion: number;
      readonly previousStorageKey: string;
    };

/** Runs cleanup tasks; where they run (in-process, a queue) is the scheduler's business. */
export interface CleanupScheduler {
  schedule(task: CleanupTask): void;
}

/**
 * Serialises everything that creates or removes the object behind `key` (ingest, cleanup), across
 * connections and nodes, for the rest of the transaction.
 */
export async function lockObjectKey(manager: EntityManager, key: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}

/**
 * Removes from storage what no row reaches any more: every variant of a deleted asset and its
 * original (unless another asset of the space holds the same bytes), or the variants and original
 * of a replaced version; then asks the purge hook to drop cached copies.
 */
export class AssetCleanup implements CleanupScheduler {
  private readonly pending = new Set<Promise<void>>();
  private scheduler: ((task: CleanupTask) => void) | undefined;
  private drainScheduled: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly purge: PurgeHook,
    private readonly baseUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Sends tasks elsewhere (a job queue) instead of running them in this process; `drain` waits for them. */
  useScheduler(scheduler: (task: CleanupTask) => void, drain: () => Promise<void>): void {
    this.scheduler = scheduler;
    this.drainScheduled = drain;
  }

  schedule(task: CleanupTask): void {
    if (this.scheduler) {
      this.scheduler(task);
      return;
    }
    const run = this.run(task)
      .catch((error: unknown) => this.logger.error({ err: error, task }, 'asset cleanup failed'))
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** Resolves when every task scheduled so far has finished (wherever it runs). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.drainScheduled?.();
  }

  /** Does one task; safe to run again after a crash (every step is idempotent). */
  async run(task: CleanupTask): Promise<void> {
    const asset = await this.db.getRepository(AssetEntity).findOneBy({ id: task.assetId });
    if (task.kind === 'deleted') {
      if (asset && asset.deletedAt === null) return;
      const variants = await this.db.getRepository(VariantEntity).findBy({ assetId: task.assetId });
      await this.store.deleteMany(variants.map((v) => v.storageKey));
      if (!asset) return;
      const prefixes = await this.urlPrefixes(asset);
      await this.db.transaction(async (manager) => {
        await lockObjectKey(manager, asset.storageKey);
        // The row lock makes a render that finishes from now on wait for this transaction, then
        // fail on the foreign key and delete its own object; one that finished before is in
        // `late`. Without it, a row recorded between the list and the delete would go with the
        // asset (ON DELETE CASCADE) and leave its object behind.
        await manager
          .createQueryBuilder(AssetEntity, 'a')
          .setLock('pessimistic_write')
          .where('a.id = :id', { id: asset.id })
          .getOne();
        // Variants recorded since the list above (a render finishing meanwhile) go too.
        const late = await manager.findBy(VariantEntity, { assetId: asset.id });
        await this.store.deleteMany(
          late.map((v) => v.storageKey).filter((k) => !variants.some((v) => v.storageKey === k)),
        );
        await manager.delete(AssetEntity, { id: asset.id });
        if (!(await manager.existsBy(AssetEntity, { storageKey: asset.storageKey })))
          await this.store.delete(asset.storageKey);
      });
      await this.purge.purge({
        event: 'asset.deleted',
        assetId: toPublicId('Asset', asset.id),
        spaceId: toPublicId('Space', asset.spaceId),
        urlPrefixes: prefixes,
      });
      return;
    }
    const stale = await this.db
      .getRepository(VariantEntity)
      .createQueryBuilder('v')
      .where('v.asset_id = :id AND v.asset_version <= :version', {
        id: task.assetId,
        version: task.previousVersion,
      })
      .getMany();
    await this.store.deleteMany(stale.map((v) => v.storageKey));
    if (stale.length > 0) await this.db.getRepository(VariantEntity).delete(stale.map((v) => v.id));
    await this.db.transaction(async (manager) => {
      await lockObjectKey(manager, task.previousStorageKey);
      if (!(await manager.existsBy(AssetEntity, { storageKey: task.previousStorageKey })))
        await this.store.delete(task.previousStorageKey);
    });
    if (asset) {
      await this.purge.purge({
        event: 'asset.replaced',
        assetId: toPublicId('Asset', asset.id),
        spaceId: toPublicId('Space', asset.spaceId),
        urlPrefixes: await this.urlPrefixes(asset),
      });
    }
  }

  private async urlPrefixes(asset: AssetEntity): Promise<string[]> {
    const row = await this.db
      .getRepository(SpaceEntity)
      .createQueryBuilder('s')
      .innerJoin(TenantEntity, 't', 't.id = s.tenant_id')
      .innerJoin(OrganizationEntity, 'o', 'o.id = s.organization_id')
      .select(['o.slug AS org', 't.slug AS tenant', 's.slug AS space'])
      .where('s.id = :id', { id: asset.spaceId })
      .getRawOne<{ org: string; tenant: string; space: string }>();
    if (!row) return [];
    const id = toPublicId('Asset', asset.id);
    return ['pub', 'priv'].map(
      (kind) => `${this.baseUrl}/v1/${kind}/${row.org}/${row.tenant}/${row.space}/img/${id}/`,
    );
  }
}
