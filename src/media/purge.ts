/** What a CDN must forget after an asset is deleted or replaced. */
export interface PurgeRequest {
  readonly event: 'asset.deleted' | 'asset.replaced';
  /** Public id (`ast_…`). */
  readonly assetId: string;
  readonly spaceId: string;
  /** URL prefixes under which every image URL of the asset lives (public and private forms). */
  readonly urlPrefixes: readonly string[];
}

/** Tells a CDN (or anything else) to drop cached responses. Implementations must be idempotent. */
export interface PurgeHook {
  purge(request: PurgeRequest): Promise<void>;
}

/** No CDN in front: nothing to purge. */
export const noPurge: PurgeHook = { purge: async () => undefined };
