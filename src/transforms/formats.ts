import type { OutputFormat } from './plan.js';

const MIME: Readonly<Record<OutputFormat, string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** The media type of an output format. */
export const mimeOf = (format: OutputFormat): string => MIME[format];

/** The URL extension of an output format. */
export const extensionOf = (format: OutputFormat): string => format;

/** The output format an URL extension names (`jpeg` as `jpg`); `undefined` for anything else. */
export function formatFromExtension(ext: string): OutputFormat | undefined {
  const lower = ext.toLowerCase();
  if (lower === 'jpeg') return 'jpg';
  return (Object.keys(MIME) as OutputFormat[]).find((f) => f === lower);
}

/** What an original is served as when no format is asked for: its own format where it is an output format. */
export function naturalFormat(source: {
  format: string;
  hasAlpha: boolean;
  animated: boolean;
}): OutputFormat {
  switch (source.format) {
    case 'jpeg':
      return 'jpg';
    case 'png':
    case 'webp':
    case 'avif':
    case 'gif':
      return source.format;
    default:
      return source.hasAlpha ? 'png' : 'jpg';
  }
}

/** q-values of an Accept header by media range (`image/avif` → 1, `image/*` → 0.8, …). */
function acceptWeights(accept: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().split(';');
    if (!range) continue;
    let q = 1;
    for (const param of params) {
      const [k, v] = param.trim().split('=');
      if (k?.trim() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
      }
    }
    const key = range.trim().toLowerCase();
    weights.set(key, Math.max(q, weights.get(key) ?? 0));
  }
  return weights;
}

/** True when the Accept header names the type explicitly with q > 0 (wildcards do not promise AVIF or WebP). */
export function acceptsExplicitly(accept: string | undefined, mime: string): boolean {
  if (!accept) return false;
  return (acceptWeights(accept).get(mime) ?? 0) > 0;
}

/**
 * `fmt_auto`: AVIF when the browser says it takes AVIF, else WebP, else JPEG — PNG for images with
 * alpha, GIF for animations. Browsers list `image/avif` and `image/webp` explicitly when they
 * decode them; `*\/*` alone promises neither.
 */
export function negotiateFormat(
  accept: string | undefined,
  source: { hasAlpha: boolean; animated: boolean },
  allow: { avif?: boolean } = {},
): OutputFormat {
  if (source.animated) return acceptsExplicitly(accept, 'image/webp') ? 'webp' : 'gif';
  if (allow.avif !== false && acceptsExplicitly(accept, 'image/avif')) return 'avif';
  if (acceptsExplicitly(accept, 'image/webp')) return 'webp';
  return source.hasAlpha ? 'png' : 'jpg';
}

/** True when the format keeps an alpha channel. */
export const keepsAlpha = (format: OutputFormat): boolean => format !== 'jpg';

/** True when the format keeps animation frames. */
export const keepsFrames = (format: OutputFormat): boolean => format === 'gif' || format === 'webp';
