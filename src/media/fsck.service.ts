import type { DataSource } from 'typeorm';
import { AssetEntity, UploadEntity, VariantEntity } from '../db/entities/index.js';
import type { ObjectStore } from '../storage/object-store.js';

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

    const assetsWithoutOriginal = assets
      .filter((a) => a.deletedAt === null && !originals.has(a.storageKey))
      .map((a) => a.id);
    const variantsWithoutObject = variants.filter((v) => !variantObjects.has(v.storageKey)).map((v) => v.id);
    const objectsWithoutRow = [
      ...[...originals].filter((k) => !referencedOriginals.has(k)),
      ...[...variantObjects].filter((k) => !referencedVariants.has(k)),
      ...[...staged].filter((k) => !referencedStaged.has(k)),
    ].sort();

    let repaired: FsckReport['repaired'] = null;
    if (options.repair) {
      await this.store.deleteMany(objectsWithoutRow);
      if (variantsWithoutObject.length > 0)
        await this.db.getRepository(VariantEntity).delete(variantsWithoutObject);
      let deletedAssets = 0;
      for (const id of assetsWithoutOriginal) {
        const own = variants.filter((v) => v.assetId === id).map((v) => v.storageKey);
        await this.store.deleteMany(own);
        const result = await this.db.getRepository(AssetEntity).delete({ id });
        deletedAssets += result.affected ?? 0;
      }
      repaired = {
        deletedObjects: objectsWithoutRow.length,
        deletedVariantRows: variantsWithoutObject.length,
        deletedAssets,
      };
    }
    return { assetsWithoutOriginal, variantsWithoutObject, objectsWithoutRow, repaired };
  }
}
