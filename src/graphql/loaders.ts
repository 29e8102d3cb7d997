import DataLoader from 'dataloader';
import type { AssetEntity, OrganizationEntity, SpaceEntity, TenantEntity } from '../db/entities/index.js';

/** Anything with a row id. */
interface Row {
  readonly id: string;
}

/**
 * A DataLoader over a batch fetch by ids: results in key order, `null` for missing rows, one
 * query per tick however many fields ask.
 */
export function byIdLoader<T extends Row>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export interface LoaderSources {
  organizationsByIds(ids: readonly string[]): Promise<OrganizationEntity[]>;
  tenantsByIds(ids: readonly string[]): Promise<TenantEntity[]>;
  spacesByIds(ids: readonly string[]): Promise<SpaceEntity[]>;
  assetsByIds(ids: readonly string[]): Promise<AssetEntity[]>;
}

/** Request-scoped loaders; made anew for every GraphQL request so nothing leaks between callers. */
export function createLoaders(sources: LoaderSources) {
  return {
    organization: byIdLoader((ids) => sources.organizationsByIds(ids)),
    tenant: byIdLoader((ids) => sources.tenantsByIds(ids)),
    space: byIdLoader((ids) => sources.spacesByIds(ids)),
    asset: byIdLoader((ids) => sources.assetsByIds(ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
