import type { DataSource, EntityManager } from 'typeorm';
import { AssetEntity, UploadEntity, VariantEntity } from '../db/entities/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import { lockObjectKey } from './cleanup.service.js';

export interface FsckReport {
  /** Live assets whose original is missing from storage. */
  readonly assetsWithoutOriginal: string[];
  /** Variant rows whose object is missing. */
  readonly variantsWithoutObject: string[];
  /** Stored objects no row refers to (originals, variants, staged uploads). */
  readonly objectsWithoutRow: string[];
  /** What `repair` did. */
  readonly repaired: { deletedObjects: number; deletedVariantRows: number; deletedAssets: number } | null;
}

/**
 * Consistency between the registry and the object store: rows without objects, objects without
 * rows. With `repair`, orphan objects are deleted, variant rows without objects are dropped (they
 * render again on demand), and assets whose original is gone are removed with their variants.
 *
 * It runs against a live system: the store is listed before the registry is read, and each
 * finding is checked again before it is reported and again before it is repaired (under the
 * object's lock where ingest takes one), so an upload, replacement or render landing meanwhile is
 * neither reported nor removed.
 */
export class Fsck {
  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
  ) {}

  private async keys(prefix: string): Promise<Set<string>> {
    const keys = new Set<string>();
    for await (const info of this.store.list(prefix)) keys.add(info.key);
    return keys;
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.store.stat(key)) !== undefined;
  }

  /** Does a row still refer to an object under `key`? */
  private async referenced(key: string, manager: EntityManager = this.db.manager): Promise<boolean> {
    if (key.startsWith('originals/')) return manager.existsBy(AssetEntity, { storageKey: key });
    if (key.startsWith('variants/')) return manager.existsBy(VariantEntity, { storageKey: key });
    return manager.existsBy(UploadEntity, { storageKey: key, status: 'pending' });
  }

  /** Is this asset still live, with its original at `storageKey`, and the object still missing? */
  private async stillWithoutOriginal(
    id: string,
    storageKey: string,
    manager: EntityManager = this.db.manager,
  ): Promise<boolean> {
    const row = await manager.findOneBy(AssetEntity, { id });
    return (
      row !== null &&
      row.deletedAt === null &&
      row.storageKey === storageKey &&
      !(await this.exists(storageKey))
    );
  }

  async run(options: { repair: boolean }): Promise<FsckReport> {
    const [originals, variantObjects, staged] = await Promise.all([
      this.keys('originals/'),
      this.keys('variants/'),
      this.keys('uploads/'),
    ]);
    const assets = await this.db
      .getRepository(AssetEntity)
      .find({ select: { id: true, storageKey: true, deletedAt: true } });
    const variants = await this.db
      .getRepository(VariantEntity)
      .find({ select: { id: true, storageKey: true, assetId: true } });
    const pending = await this.db
      .getRepository(UploadEntity)
      .find({ select: { id: true, storageKey: true }, where: { status: 'pending' } });

    const referencedOriginals = new Set(assets.map((a) => a.storageKey));
    const referencedVariants = new Set(variants.map((v) => v.storageKey));
    const referencedStaged = new Set(pending.map((u) => u.storageKey));

    // Candidates from the two snapshots, each confirmed against the present.
    const assetsWithoutOriginal: AssetEntity[] = [];
    for (const asset of assets) {
      if (asset.deletedAt !== null || originals.has(asset.storageKey)) continue;
      if (await this.stillWithoutOriginal(asset.id, asset.storageKey)) assetsWithoutOriginal.push(asset);
    }
    const variantsWithoutObject: VariantEntity[] = [];
    for (const variant of variants) {
      if (variantObjects.has(variant.storageKey)) continue;
      if (!(await this.exists(variant.storageKey))) variantsWithoutObject.push(variant);
    }
    const objectsWithoutRow: string[] = [];
    for (const key of [
      ...[...originals].filter((k) => !referencedOriginals.has(k)),
      ...[...variantObjects].filter((k) => !referencedVariants.has(k)),
      ...[...staged].filter((k) => !referencedStaged.has(k)),
    ]) {
      if (!(await this.referenced(key))) objectsWithoutRow.push(key);
    }
    objectsWithoutRow.sort();

    let repaired: FsckReport['repaired'] = null;
    if (options.repair) {
      let deletedObjects = 0;
      for (const key of objectsWithoutRow) {
        // Ingest writes an original under this lock before its row commits.
        const deleted = await this.db.transaction(async (manager) => {
          if (key.startsWith('originals/')) await lockObjectKey(manager, key);
          if (await this.referenced(key, manager)) return false;
          await this.store.delete(key);
          return true;
        });
        if (deleted) deletedObjects += 1;
      }
      let deletedVariantRows = 0;
      for (const variant of variantsWithoutObject) {
        if (await this.exists(variant.storageKey)) continue;
        const result = await this.db
          .getRepository(VariantEntity)
          .delete({ id: variant.id, storageKey: variant.storageKey });
        deletedVariantRows += result.affected ?? 0;
      }
      let deletedAssets = 0;
      for (const asset of assetsWithoutOriginal) {
        deletedAssets += await this.db.transaction(async (manager) => {
          await lockObjectKey(manager, asset.storageKey);
          if (!(await this.stillWithoutOriginal(asset.id, asset.storageKey, manager))) return 0;
          const own = await manager.findBy(VariantEntity, { assetId: asset.id });
          await this.store.deleteMany(own.map((v) => v.storageKey));
          const result = await manager.delete(AssetEntity, { id: asset.id, storageKey: asset.storageKey });
          return result.affected ?? 0;
        });
      }
      repaired = { deletedObjects, deletedVariantRows, deletedAssets };
    }
    return {
      assetsWithoutOriginal: assetsWithoutOriginal.map((a) => a.id),
      variantsWithoutObject: variantsWithoutObject.map((v) => v.id),
      objectsWithoutRow,
      repaired,
    };
  }
}
