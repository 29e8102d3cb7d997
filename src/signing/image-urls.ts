import { signPath } from './url-signature.js';

/** Where an asset's images live: the slugs of its space and its public id and version. */
export interface ImageAddress {
  readonly org: string;
  readonly tenant: string;
  readonly space: string;
  /** Public id, `ast_…`. */
  readonly assetId: string;
  readonly version: number;
}

/** A key to sign a private URL with. */
export interface UrlSigner {
  readonly kid: string;
  readonly secret: Buffer;
}

/** The path of an image URL: `/v1/{pub|priv}/{org}/{tenant}/{space}/img/{assetId}/v{version}/{file}`. */
export function imagePath(address: ImageAddress, access: 'pub' | 'priv', file: string): string {
  return `/v1/${access}/${address.org}/${address.tenant}/${address.space}/img/${address.assetId}/v${address.version}/${file}`;
}

/** A public, CDN-cacheable image URL. */
export function publicImageUrl(baseUrl: string, address: ImageAddress, file: string): string {
  return `${baseUrl}${imagePath(address, 'pub', file)}`;
}

/**
 * A signed, expiring image URL: `?exp={unix seconds}&kid={key id}&sig={base64url HMAC}` where the
 * signature covers `GET`, the path and `exp`.
 */
export function signedImageUrl(
  baseUrl: string,
  address: ImageAddress,
  file: string,
  signer: UrlSigner,
  exp: number,
): string {
  const path = imagePath(address, 'priv', file);
  return `${baseUrl}${path}?exp=${exp}&kid=${signer.kid}&sig=${signPath(signer.secret, path, exp)}`;
}

/**
 * Expiry of a signed URL, rounded up to the next `step` seconds so URLs made within one window are
 * identical (browsers and CDNs then cache them), never shorter than asked.
 */
export function expiryOf(nowSeconds: number, lifetimeSeconds: number, step = 300): number {
  const exact = nowSeconds + lifetimeSeconds;
  return Math.ceil(exact / step) * step;
}
