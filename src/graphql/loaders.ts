import DataLoader from 'dataloader';
import type {
  AssetEntity,
  OrganizationEntity,
  SpaceEntity,
  TenantEntity,
  VariantEntity,
} from '../db/entities/index.js';

/** Anything with a row id. */
interface Row {
  readonly id: string;
}

/**
 * A DataLoader over a batch fetch by ids: results in key order, `null` for missing rows, one
 * query per tick however many fields ask.
 */
export function byIdLoader<T extends Row>(
  fetch: (ids: readonly string[]) => Promise<T[]>,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** A space and the slugs of its URL path. */
export interface SpacePlace {
  readonly space: SpaceEntity;
  readonly path: { readonly org: string; readonly tenant: string; readonly space: string };
}

export interface LoaderSources {
  organizationsByIds(ids: readonly string[]): Promise<OrganizationEntity[]>;
  tenantsByIds(ids: readonly string[]): Promise<TenantEntity[]>;
  spacesByIds(ids: readonly string[]): Promise<SpaceEntity[]>;
  /** Spaces with their organization and tenant slugs, in one query (left out: spaces not found). */
  spacePathsByIds(ids: readonly string[]): Promise<SpacePlace[]>;
  assetsByIds(ids: readonly string[]): Promise<AssetEntity[]>;
  variantsForAssets(
    assets: readonly Pick<AssetEntity, 'id' | 'version'>[],
    first: number,
  ): Promise<Map<string, VariantEntity[]>>;
}

/** Request-scoped loaders; made anew for every GraphQL request so nothing leaks between callers. */
export function createLoaders(sources: LoaderSources) {
  const organization = byIdLoader((ids) => sources.organizationsByIds(ids));
  const tenant = byIdLoader((ids) => sources.tenantsByIds(ids));
  const space = byIdLoader((ids) => sources.spacesByIds(ids));
  /** A space with its path slugs, space and slugs read together; the space loader is primed with it. */
  const place = new DataLoader<string, SpacePlace | null>(async (ids) => {
    const rows = await sources.spacePathsByIds(ids);
    const byId = new Map(rows.map((row) => [row.space.id, row]));
    for (const row of rows) space.prime(row.space.id, row.space);
    return ids.map((id) => byId.get(id) ?? null);
  });
  /** The first N variants of an asset's current version, keyed `assetId:version:first`, batched per N. */
  const firstVariants = new DataLoader<string, VariantEntity[]>(async (keys) => {
    const byFirst = new Map<number, { id: string; version: number }[]>();
    for (const key of keys) {
      const [id, version, first] = key.split(':');
      const list = byFirst.get(Number(first)) ?? [];
      list.push({ id: id!, version: Number(version) });
      byFirst.set(Number(first), list);
    }
    const found = new Map<string, VariantEntity[]>();
    for (const [first, assets] of byFirst) {
      const rows = await sources.variantsForAssets(assets, first);
      for (const a of assets) found.set(`${a.id}:${a.version}:${first}`, rows.get(a.id) ?? []);
    }
    return keys.map((key) => found.get(key) ?? []);
  });
  return {
    organization,
    tenant,
    space,
    firstVariants,
    /**
     * A space and the slugs of its URL path (one batched query for space, tenant and organization),
     * or null when it is not found. Unchecked: callers hold something of the space already or
     * check that the principal may see it.
     */
    spacePath(spaceId: string): Promise<SpacePlace | null> {
      return place.load(spaceId);
    },
    asset: byIdLoader((ids) => sources.assetsByIds(ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
