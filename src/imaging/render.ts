/**
 * Runs a canonical plan through Sharp: limits checked from the header before any decode, EXIF
 * orientation applied first, then the stages of the operations table in order (geometry,
 * orientation, filters, overlay, encode), metadata stripped, a time budget on the whole render.
 * The renderer never sees a URL: only a plan and a resolved output format.
 */
import sharp, { type Sharp } from 'sharp';
import { DomainError, ErrorCode } from '../errors/index.js';
import {
  canonicalPlan,
  cropInside,
  keepsAlpha,
  keepsFrames,
  predictSize,
  preResizeSize,
  type Gravity,
  type OutputFormat,
  type TransformPlan,
} from '../transforms/index.js';

export interface RenderLimits {
  /** Largest decoded input, width × height × frames. */
  readonly maxInputPixels: number;
  /** Largest output side, px. */
  readonly maxOutputDimension: number;
  readonly timeoutSeconds: number;
}

export interface RenderContext {
  /** The output format, resolved (never `auto`). */
  readonly format: OutputFormat;
  /** Relative focal point of the asset, for `g_focal`. */
  readonly focalPoint?: { readonly x: number; readonly y: number } | null;
  readonly limits: RenderLimits;
  /** AVIF encoder effort, 0 (fast) – 9 (small). */
  readonly avifEffort?: number;
}

export interface RenderedVariant {
  readonly data: Buffer;
  readonly format: OutputFormat;
  /** Output width, px. */
  readonly width: number;
  /** Output height of one frame, px. */
  readonly height: number;
  readonly bytes: number;
  readonly frames: number;
}

/** Default quality per format when the plan says `auto`. */
export const AUTO_QUALITY: Readonly<Record<OutputFormat, number>> = { jpg: 80, png: 100, webp: 80, avif: 50, gif: 100 };

const SHARP_GRAVITY: Readonly<Record<Exclude<Gravity, 'attention' | 'entropy' | 'focal'>, string>> = {
  center: 'centre',
  n: 'north',
  ne: 'northeast',
  e: 'east',
  se: 'southeast',
  s: 'south',
  sw: 'southwest',
  w: 'west',
  nw: 'northwest',
};

type Rgba = { r: number; g: number; b: number; alpha: number };

function backgroundOf(plan: TransformPlan, format: OutputFormat): Rgba {
  const hex = plan.background;
  if (hex === undefined) return keepsAlpha(format) ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 255, g: 255, b: 255, alpha: 1 };
  const n = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: hex.length === 8 ? n(6) / 255 : 1 };
}

const limitError = (message: string, details: Record<string, unknown>): DomainError =>
  new DomainError(ErrorCode.LimitExceeded, message, { details });

/** Where `g_` puts the image inside a padded box: offsets of the extension on each side. */
function padOffsets(gravity: Gravity | undefined, inner: { width: number; height: number }, box: { width: number; height: number }) {
  const dx = box.width - inner.width;
  const dy = box.height - inner.height;
  const g = gravity ?? 'center';
  const left = g.includes('w') && g !== 'center' ? 0 : g.includes('e') ? dx : Math.floor(dx / 2);
  const top = g.startsWith('n') ? 0 : g.startsWith('s') ? dy : Math.floor(dy / 2);
  return { left, right: dx - left, top, bottom: dy - top };
}

/** Text watermark as an SVG the size of the output, text in the chosen corner. */
function watermarkSvg(text: string, position: string, width: number, height: number): Buffer {
  const size = Math.max(10, Math.round(Math.min(width, height) * 0.06));
  const margin = Math.round(size * 0.6);
  const east = position.endsWith('e');
  const south = position.startsWith('s');
  const x = east ? width - margin : margin;
  const y = south ? height - margin : margin + size;
  const escaped = text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${size}" font-weight="bold"
    text-anchor="${east ? 'end' : 'start'}" fill="#ffffff" fill-opacity="0.9" stroke="#000000" stroke-opacity="0.6"
    stroke-width="${Math.max(1, Math.round(size / 12))}" paint-order="stroke">${escaped}</text>
</svg>`;
  return Buffer.from(svg, 'utf8');
}

/**
 * Renders a plan. The plan is canonicalised here too, so callers cannot bypass `dpr` folding.
 * @throws DomainError LIMIT_EXCEEDED (input pixels, output size, time budget), BAD_USER_INPUT
 *   (a crop outside the image, a watermark on an animation), UNPROCESSABLE_IMAGE (undecodable).
 */
export async function renderVariant(source: Buffer, input: TransformPlan, ctx: RenderContext): Promise<RenderedVariant> {
  const plan = canonicalPlan(input);
  const { limits, format } = ctx;

  let meta;
  try {
    meta = await sharp(source, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new DomainError(ErrorCode.UnprocessableImage, 'The original could not be read.', { cause });
  }
  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.pageHeight ?? meta.height ?? 0;
  const pages = meta.pages ?? 1;
  const animated = pages > 1 && (meta.format === 'gif' || meta.format === 'webp') && keepsFrames(format);
  const frames = animated ? pages : 1;
  if (storedWidth * storedHeight * frames > limits.maxInputPixels) {
    throw limitError(`The original is larger than the ${limits.maxInputPixels} pixels a render may decode.`, {
      width: storedWidth,
      height: storedHeight,
      frames,
      maxInputPixels: limits.maxInputPixels,
    });
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  const display = { width: swapped ? storedHeight : storedWidth, height: swapped ? storedWidth : storedHeight };
  if (plan.crop && !cropInside(plan.crop, display)) {
    throw new DomainError(ErrorCode.BadUserInput, `The crop ${plan.crop.x},${plan.crop.y},${plan.crop.width},${plan.crop.height} is not inside the ${display.width}×${display.height} image.`, {
      details: { token: 'c' },
    });
  }
  if (plan.watermark && animated) {
    throw new DomainError(ErrorCode.BadUserInput, 'A watermark cannot be drawn on an animation; ask for a still format (jpg, png, avif).', {
      details: { token: 'wm' },
    });
  }
  const out = predictSize(plan, display);
  if (out.width > limits.maxOutputDimension || out.height > limits.maxOutputDimension) {
    throw limitError(`The output would be ${out.width}×${out.height}, larger than ${limits.maxOutputDimension} px.`, {
      maxOutputDimension: limits.maxOutputDimension,
    });
  }

  const background = backgroundOf(plan, format);
  let image: Sharp = sharp(source, {
    limitInputPixels: limits.maxInputPixels,
    failOn: 'error',
    autoOrient: true,
    animated,
    pages: animated ? -1 : 1,
  }).timeout({ seconds: limits.timeoutSeconds });

  // geometry and orientation
  if (plan.crop) image = image.extract({ left: plan.crop.x, top: plan.crop.y, width: plan.crop.width, height: plan.crop.height });
  if (plan.rotate) image = image.rotate(plan.rotate);
  if (plan.flip) image = image.flip();
  if (plan.flop) image = image.flop();
  image = resize(image, plan, preResizeSize(plan, display), out, background, ctx.focalPoint ?? null);

  // filters
  if (plan.blur !== undefined) image = image.blur(plan.blur);
  if (plan.sharpen !== undefined) image = image.sharpen({ sigma: plan.sharpen });
  if (plan.grayscale) image = image.grayscale();

  // overlay
  if (plan.watermark) {
    image = image.composite([{ input: watermarkSvg(plan.watermark.text, plan.watermark.position, out.width, out.height), top: 0, left: 0 }]);
  }

  // encode
  if (!keepsAlpha(format)) image = image.flatten({ background: { r: background.r, g: background.g, b: background.b } });
  image = image.toColourspace(plan.grayscale ? 'b-w' : 'srgb');
  const quality = plan.quality === undefined || plan.quality === 'auto' ? AUTO_QUALITY[format] : plan.quality;
  switch (format) {
    case 'jpg':
      image = image.jpeg({ quality, progressive: true });
      break;
    case 'png':
      image = plan.quality === undefined || plan.quality === 'auto' ? image.png({ compressionLevel: 6 }) : image.png({ palette: true, quality });
      break;
    case 'webp':
      image = image.webp({ quality });
      break;
    case 'avif':
      image = image.avif({ quality, effort: ctx.avifEffort ?? 4 });
      break;
    case 'gif':
      image = image.gif();
      break;
  }

  const started = Date.now();
  try {
    const { data, info } = await image.toBuffer({ resolveWithObject: true });
    const frameHeight = info.pageHeight ?? info.height;
    return { data, format, width: info.width, height: frameHeight, bytes: data.length, frames: animated ? Math.round(info.height / frameHeight) : 1 };
  } catch (cause) {
    if (Date.now() - started >= limits.timeoutSeconds * 1000 - 50) {
      throw limitError(`The render took longer than its ${limits.timeoutSeconds} s budget.`, { timeoutSeconds: limits.timeoutSeconds });
    }
    throw new DomainError(ErrorCode.UnprocessableImage, 'The image could not be rendered.', { cause });
  }
}

function resize(
  image: Sharp,
  plan: TransformPlan,
  base: { width: number; height: number },
  out: { width: number; height: number },
  background: Rgba,
  focal: { x: number; y: number } | null,
): Sharp {
  const { width, height } = plan;
  if (width === undefined && height === undefined) return image;
  if (width === undefined || height === undefined) {
    if (out.width === base.width && out.height === base.height) return image;
    return image.resize({ width: out.width, height: out.height, fit: 'fill' });
  }
  const fit = plan.fit ?? 'cover';
  const gravity = plan.gravity ?? 'center';
  switch (fit) {
    case 'fill':
      return image.resize({ width, height, fit: 'fill' });
    case 'inside':
    case 'outside':
      if (out.width === base.width && out.height === base.height) return image;
      return image.resize({ width: out.width, height: out.height, fit: 'fill' });
    case 'contain':
      return image.resize({ width, height, fit: 'contain', position: SHARP_GRAVITY[gravity as keyof typeof SHARP_GRAVITY] ?? 'centre', background });
    case 'pad': {
      const factor = Math.min(1, width / base.width, height / base.height);
      const inner = { width: Math.max(1, Math.round(base.width * factor)), height: Math.max(1, Math.round(base.height * factor)) };
      const resized = inner.width === base.width && inner.height === base.height ? image : image.resize({ ...inner, fit: 'fill' });
      return resized.extend({ ...padOffsets(gravity, inner, { width, height }), background });
    }
    case 'cover': {
      if (gravity === 'attention' || gravity === 'entropy') {
        return image.resize({ width, height, fit: 'cover', position: gravity === 'attention' ? sharp.strategy.attention : sharp.strategy.entropy });
      }
      if (gravity === 'focal' && focal) {
        const factor = Math.max(width / base.width, height / base.height);
        const scaled = { width: Math.max(width, Math.round(base.width * factor)), height: Math.max(height, Math.round(base.height * factor)) };
        const left = Math.min(scaled.width - width, Math.max(0, Math.round(focal.x * scaled.width - width / 2)));
        const top = Math.min(scaled.height - height, Math.max(0, Math.round(focal.y * scaled.height - height / 2)));
        return image.resize({ ...scaled, fit: 'fill' }).extract({ left, top, width, height });
      }
      return image.resize({ width, height, fit: 'cover', position: SHARP_GRAVITY[gravity as keyof typeof SHARP_GRAVITY] ?? 'centre' });
    }
  }
}
