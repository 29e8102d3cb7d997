import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The string a private image URL's signature covers: the method, the URL path (without query)
 * and the expiry, one per line, so a signature for one path or expiry fits no other.
 */
export const signedPayload = (path: string, exp: number): string => `GET\n${path}\n${exp}`;

/** `base64url(HMAC-SHA256(secret, "GET\n" + path + "\n" + exp))`. `exp` is Unix seconds. */
export function signPath(secret: Buffer, path: string, exp: number): string {
  return createHmac('sha256', secret).update(signedPayload(path, exp)).digest('base64url');
}

/**
 * Constant-time check of a presented signature; false for any malformed input. The text is
 * compared, not the decoded bytes: the last of the 43 characters carries 2 unused bits, so four
 * spellings decode to the same bytes and only the canonical one is the signature.
 */
export function verifyPathSignature(secret: Buffer, path: string, exp: number, signature: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
  const expected = Buffer.from(signPath(secret, path, exp), 'latin1');
  return timingSafeEqual(Buffer.from(signature, 'latin1'), expected);
}
