import type { AssetEntity } from '../db/entities/index.js';

/** True for an animated GIF or WebP original. */
export const isAnimated = (asset: Pick<AssetEntity, 'pages' | 'format'>): boolean =>
  asset.pages > 1 && (asset.format === 'gif' || asset.format === 'webp');

/** What format choices need to know of an original. */
export const sourceOf = (asset: Pick<AssetEntity, 'pages' | 'format' | 'hasAlpha'>) => ({
  format: asset.format,
  hasAlpha: asset.hasAlpha,
  animated: isAnimated(asset),
});
