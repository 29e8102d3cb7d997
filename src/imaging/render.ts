/**
 * Runs a canonical plan through Sharp: limits checked from the header before any decode, EXIF
 * orientation applied first, then the stages of the operations table in order — crop, rotate,
 * flip/flop, resize (fit, gravity, dpr already folded), filters, grayscale, watermark, encode —
 * metadata stripped, colour converted to sRGB, one time budget for the whole render.
 * The renderer never sees a URL: only a plan and a resolved output format.
 *
 * Animations (GIF or WebP to GIF or WebP) keep every frame, delay and loop count. Sharp turns and
 * mirrors a multi-page image as one tall strip (which would play it backwards, or refuses), so
 * frames are turned, mirrored and filtered one by one when the plan asks for that; cover with
 * `attention`/`entropy` keeps the centre on animations, so the crop does not jump between frames.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { DomainError, ErrorCode, type DomainErrorOptions } from '../errors/index.js';
import {
  canonicalPlan,
  cropInside,
  planFromInput,
  keepsAlpha,
  keepsFrames,
  predictSize,
  preResizeSize,
  type Gravity,
  type OutputFormat,
  type TransformPlan,
} from '../transforms/index.js';
import { watermarkSvg } from './render-watermark.js';

export interface RenderLimits {
  /** Largest decoded input, width × height × frames decoded, in pixels. */
  readonly maxInputPixels: number;
  /** Largest output width or height, px. */
  readonly maxOutputDimension: number;
  /** Time budget of the whole render, seconds (≥ 1). */
  readonly timeoutSeconds: number;
}

/**
 * What is known of a source from when it was probed: the renderer then reads nothing before it
 * decodes (an animation still has its header read, for its timing).
 */
export interface SourceFacts {
  /** Width as stored, before EXIF orientation, px. */
  readonly width: number;
  /** Height of one frame as stored, before EXIF orientation, px. */
  readonly height: number;
  readonly pages: number;
  /** EXIF orientation, 1–8. */
  readonly orientation: number;
  readonly hasAlpha: boolean;
  /** Decoder format, as Sharp names it (`jpeg`, `png`, `webp`, `gif`, `avif`, `heif`, `tiff`). */
  readonly format: string;
}

export interface RenderContext {
  /** The output format, resolved (never `auto`). */
  readonly format: OutputFormat;
  /** The source as probed, when the caller has it (spares reading its header). */
  readonly source?: SourceFacts;
  /** Focal point of the asset, relative (0–1 on each axis of the EXIF-oriented image), for `g_focal`; centre when absent. */
  readonly focalPoint?: { readonly x: number; readonly y: number } | null;
  readonly limits: RenderLimits;
  /** AVIF encoder effort, 0 (fast) – 9 (small). Default 4. */
  readonly avifEffort?: number;
}

export interface RenderedVariant {
  readonly data: Buffer;
  readonly format: OutputFormat;
  /** Output width, px. */
  readonly width: number;
  /** Output height of one frame, px. */
  readonly height: number;
  /** Size of `data`, bytes. */
  readonly bytes: number;
  /** Frames in the output: 1 unless an animation stays animated (frames that do not change are merged by the encoder). */
  readonly frames: number;
}

/** Why a render was refused or failed. */
export type RenderFailure =
  'input-too-large' | 'output-too-large' | 'crop-outside' | 'time-budget' | 'undecodable';

const CODE_OF: Readonly<Record<RenderFailure, ErrorCode>> = {
  'input-too-large': ErrorCode.LimitExceeded,
  'output-too-large': ErrorCode.LimitExceeded,
  'crop-outside': ErrorCode.BadUserInput,
  'time-budget': ErrorCode.LimitExceeded,
  undecodable: ErrorCode.UnprocessableImage,
};

/**
 * A render refused or failed: a `DomainError` (LIMIT_EXCEEDED, BAD_USER_INPUT or
 * UNPROCESSABLE_IMAGE) with the reason as a typed field.
 */
export class RenderError extends DomainError {
  readonly reason: RenderFailure;

  constructor(reason: RenderFailure, message: string, options: DomainErrorOptions = {}) {
    super(CODE_OF[reason], message, options);
    this.name = 'RenderError';
    this.reason = reason;
  }
}

/** Largest side any plan may name, px (the most `MAX_OUTPUT_DIMENSION` may be set to). */
const MAX_SIDE = 65_535;

/** Encoder quality per format when the plan says `auto` (PNG is lossless then; GIF keeps Sharp's defaults). */
export const AUTO_QUALITY: Readonly<Record<OutputFormat, number>> = {
  jpg: 80,
  png: 100,
  webp: 80,
  avif: 50,
  gif: 100,
};

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
type Size = { width: number; height: number };
type Point = { x: number; y: number };

/** Letterbox colour: `b_`, else transparent where the format keeps alpha and white where it does not. */
function backgroundOf(plan: TransformPlan, format: OutputFormat): Rgba {
  const hex = plan.background;
  if (hex === undefined)
    return keepsAlpha(format) ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 255, g: 255, b: 255, alpha: 1 };
  const n = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: keepsAlpha(format) && hex.length === 8 ? n(6) / 255 : 1 };
}

/** Where `g_` puts the image inside a padded box: offsets of the extension on each side. */
function padOffsets(gravity: Gravity | undefined, inner: Size, box: Size) {
  const dx = box.width - inner.width;
  const dy = box.height - inner.height;
  const g = gravity === undefined || gravity === 'center' ? '' : gravity;
  const left = g.endsWith('w') ? 0 : g.endsWith('e') ? dx : Math.floor(dx / 2);
  const top = g.startsWith('n') ? 0 : g.startsWith('s') ? dy : Math.floor(dy / 2);
  return { left, right: dx - left, top, bottom: dy - top };
}

const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));

/**
 * The focal point in the frame the resize sees: the asset's point (relative to the oriented
 * source) moved into the crop, then turned and mirrored with the image.
 */
function focalInFrame(focal: Point | null, plan: TransformPlan, display: Size): Point | null {
  if (!focal) return null;
  let { x, y } = focal;
  if (plan.crop) {
    x = clamp01((x * display.width - plan.crop.x) / plan.crop.width);
    y = clamp01((y * display.height - plan.crop.y) / plan.crop.height);
  }
  if (plan.rotate === 90) [x, y] = [1 - y, x];
  else if (plan.rotate === 180) [x, y] = [1 - x, 1 - y];
  else if (plan.rotate === 270) [x, y] = [y, 1 - x];
  if (plan.flip) y = 1 - y;
  if (plan.flop) x = 1 - x;
  return { x, y };
}

/** Everything a frame needs to be shaped, computed once from the plan and the source header. */
interface Shaping {
  readonly plan: TransformPlan;
  /** Size after crop and rotation: what the resize starts from. */
  readonly base: Size;
  /** Size of the output (one frame). */
  readonly out: Size;
  readonly background: Rgba;
  readonly focal: Point | null;
  /** Content-aware cover (attention, entropy) allowed: not on animations. */
  readonly strategies: boolean;
  readonly watermark: Buffer | null;
  /** The output has an alpha channel: the source has one, or a letterbox is (partly) transparent. */
  readonly alpha: boolean;
}

/**
 * Rotate, then mirror. Sharp mirrors before it rotates; after a quarter turn, mirroring about the
 * other axis first gives what mirroring about this one afterwards would.
 */
function orient(image: Sharp, plan: TransformPlan): Sharp {
  const quarter = plan.rotate === 90 || plan.rotate === 270;
  const flip = quarter ? plan.flop : plan.flip;
  const flop = quarter ? plan.flip : plan.flop;
  let out = image;
  if (plan.rotate) out = out.rotate(plan.rotate);
  if (flip) out = out.flip();
  if (flop) out = out.flop();
  return out;
}

function filters(image: Sharp, plan: TransformPlan): Sharp {
  let out = image;
  if (plan.blur !== undefined) out = out.blur(plan.blur);
  if (plan.sharpen !== undefined) out = out.sharpen({ sigma: plan.sharpen });
  return out;
}

type Open = (input: Buffer, options: SharpOptions) => Sharp;

/**
 * Turns and mirrors one image (a still or one frame). A turn is finished in a pipeline of its own:
 * Sharp combines a turn with a crop and a resize in one pipeline wrongly (a cover resize after a
 * quarter turn comes out square; a small resize after a crop and a turn fails).
 */
async function turn(image: Sharp, plan: TransformPlan, open: Open): Promise<Sharp> {
  const oriented = orient(image, plan);
  if (!plan.rotate) return oriented;
  const { data, info } = await oriented.raw().toBuffer({ resolveWithObject: true });
  return open(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

/**
 * Resize, filters, grayscale and watermark on one image: a still, one frame, or a strip of frames
 * that Sharp decoded as an animation (`strip`: the watermark is tiled once per frame).
 */
function shape(image: Sharp, s: Shaping, strip: boolean): Sharp {
  let out = resize(image, s);
  out = filters(out, s.plan);
  if (s.plan.grayscale) out = out.grayscale();
  if (s.watermark) {
    out = out.composite([
      { input: s.watermark, ...(strip ? { tile: true, gravity: 'northwest' } : { top: 0, left: 0 }) },
    ]);
    // compositing adds an alpha channel; an opaque image stays opaque
    if (!s.alpha) out = out.removeAlpha();
  }
  return out;
}

/** The time budget shared by every Sharp pipeline of one render. */
class Budget {
  private readonly deadline: number;

  constructor(readonly seconds: number) {
    this.deadline = Date.now() + seconds * 1000;
  }

  /** Whole seconds left for the next pipeline (Sharp's timeout counts seconds). */
  left(): number {
    return Math.max(1, Math.ceil((this.deadline - Date.now()) / 1000));
  }

  spent(): boolean {
    return Date.now() >= this.deadline - 50;
  }

  check(): void {
    if (this.spent()) throw this.error();
  }

  error(cause?: unknown): RenderError {
    return new RenderError('time-budget', `The render took longer than its ${this.seconds} s budget.`, {
      details: { timeoutSeconds: this.seconds },
      cause,
    });
  }
}

/**
 * Decodes the frames of `image` and runs `each` on every frame alone, then stacks them again as
 * one strip (`pageHeight` set) for the encoder.
 */
async function eachFrame(
  image: Sharp,
  each: (frame: Sharp) => Promise<Sharp>,
  open: Open,
  budget: Budget,
): Promise<Sharp> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  const pageHeight = info.pageHeight ?? info.height;
  const pages = Math.max(1, Math.round(info.height / pageHeight));
  const frameBytes = info.width * pageHeight * info.channels;
  const frames: Buffer[] = [];
  let shaped: OutputInfo | undefined;
  for (let i = 0; i < pages; i += 1) {
    budget.check();
    const frame = open(data.subarray(i * frameBytes, (i + 1) * frameBytes), {
      raw: { width: info.width, height: pageHeight, channels: info.channels },
    });
    const result = await (await each(frame)).raw().toBuffer({ resolveWithObject: true });
    frames.push(result.data);
    shaped = result.info;
  }
  const { width, height, channels } = shaped!;
  return open(Buffer.concat(frames), {
    raw: { width, height: height * pages, channels, pageHeight: height },
  });
}

/**
 * Renders a plan. The plan is checked and canonicalised here too, so callers cannot bypass the
 * grammar's bounds or `dpr` folding.
 * @throws DomainError BAD_USER_INPUT for a value the grammar refuses (`details.field`).
 * @throws RenderError (a DomainError): LIMIT_EXCEEDED when the source has more pixels than
 *   `maxInputPixels` (checked from the header, before decoding), when the output would be larger
 *   than `maxOutputDimension`, or when the time budget runs out; BAD_USER_INPUT when the crop is
 *   not inside the image; UNPROCESSABLE_IMAGE when the source cannot be decoded (truncated or
 *   corrupt data fails, it is never rendered half grey).
 */
export async function renderVariant(
  source: Buffer,
  input: TransformPlan,
  ctx: RenderContext,
): Promise<RenderedVariant> {
  const { limits, format } = ctx;
  // every value checked as the grammar checks it (a hand-built plan too); sizes against the output limit below
  const plan = canonicalPlan(
    planFromInput(input, { maxOutputDimension: Math.max(limits.maxOutputDimension, MAX_SIDE) }),
  );

  const known = ctx.source;
  const animatable = (facts: { pages?: number; format?: string }) =>
    (facts.pages ?? 1) > 1 && (facts.format === 'gif' || facts.format === 'webp') && keepsFrames(format);
  let meta: Pick<
    Metadata,
    'width' | 'height' | 'pageHeight' | 'pages' | 'format' | 'orientation' | 'hasAlpha'
  > &
    Partial<Pick<Metadata, 'loop' | 'delay'>>;
  if (known && !animatable(known)) {
    meta = { ...known, format: known.format as Metadata['format'], pageHeight: known.height };
  } else {
    try {
      meta = await sharp(source, { limitInputPixels: false }).metadata();
    } catch (cause) {
      throw new RenderError('undecodable', 'The original could not be read.', { cause });
    }
  }
  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.pageHeight ?? meta.height ?? 0;
  const pages = meta.pages ?? 1;
  const animated = animatable(meta);
  const frames = animated ? pages : 1;
  if (storedWidth * storedHeight * frames > limits.maxInputPixels) {
    throw new RenderError(
      'input-too-large',
      `The original is larger than the ${limits.maxInputPixels} pixels a render may decode.`,
      {
        details: { width: storedWidth, height: storedHeight, frames, maxInputPixels: limits.maxInputPixels },
      },
    );
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  const display = {
    width: swapped ? storedHeight : storedWidth,
    height: swapped ? storedWidth : storedHeight,
  };
  if (plan.crop && !cropInside(plan.crop, display)) {
    const { x, y, width, height } = plan.crop;
    throw new RenderError(
      'crop-outside',
      `The crop ${x},${y},${width},${height} is not inside the ${display.width}×${display.height} image.`,
      {
        details: { token: `c_${x},${y},${width},${height}`, width: display.width, height: display.height },
      },
    );
  }
  const out = predictSize(plan, display);
  if (out.width > limits.maxOutputDimension || out.height > limits.maxOutputDimension) {
    throw new RenderError(
      'output-too-large',
      `The output would be ${out.width}×${out.height}, larger than ${limits.maxOutputDimension} px.`,
      {
        details: { width: out.width, height: out.height, maxOutputDimension: limits.maxOutputDimension },
      },
    );
  }

  const background = backgroundOf(plan, format);
  const letterbox =
    (plan.fit === 'contain' || plan.fit === 'pad') && plan.width !== undefined && plan.height !== undefined;
  const shaping: Shaping = {
    plan,
    base: preResizeSize(plan, display),
    out,
    background,
    focal: focalInFrame(ctx.focalPoint ?? null, plan, display),
    strategies: !animated,
    watermark: plan.watermark
      ? watermarkSvg(plan.watermark.text, plan.watermark.position, out.width, out.height)
      : null,
    alpha: meta.hasAlpha === true || (letterbox && background.alpha < 1),
  };

  const budget = new Budget(limits.timeoutSeconds);
  const open: Open = (data, options) => sharp(data, options).timeout({ seconds: budget.left() });
  try {
    let image = open(source, {
      limitInputPixels: limits.maxInputPixels,
      failOn: 'error',
      autoOrient: true,
      animated,
      pages: animated ? -1 : 1,
    });
    if (plan.crop)
      image = image.extract({
        left: plan.crop.x,
        top: plan.crop.y,
        width: plan.crop.width,
        height: plan.crop.height,
      });

    const turns = plan.rotate !== undefined || plan.flip === true || plan.flop === true;
    const filtered = plan.blur !== undefined || plan.sharpen !== undefined;
    if (!animated) image = shape(await turn(image, plan, open), shaping, false);
    else if (turns || filtered)
      image = await eachFrame(
        image,
        async (frame) => shape(await turn(frame, plan, open), shaping, false),
        open,
        budget,
      );
    else image = shape(image, shaping, true);
    image = encode(image, plan, shaping.background, format, animated ? meta : null, ctx.avifEffort ?? 4);

    budget.check();
    const { data, info } = await image.toBuffer({ resolveWithObject: true });
    const frameHeight = info.pageHeight ?? info.height;
    return {
      data,
      format,
      width: info.width,
      height: frameHeight,
      bytes: data.length,
      // encoders merge identical neighbouring frames (a still corner of an animation): count what was written
      frames: animated ? ((await sharp(data, { animated: true }).metadata()).pages ?? 1) : 1,
    };
  } catch (cause) {
    if (cause instanceof DomainError) throw cause;
    if (budget.spent()) throw budget.error(cause);
    throw new RenderError('undecodable', 'The image could not be rendered.', { cause });
  }
}

/** Colour space, alpha and the encoder with its settings for `format`. */
function encode(
  image: Sharp,
  plan: TransformPlan,
  background: Rgba,
  format: OutputFormat,
  animation: Partial<Pick<Metadata, 'loop' | 'delay'>> | null,
  avifEffort: number,
): Sharp {
  let out = image;
  if (!keepsAlpha(format))
    out = out.flatten({ background: { r: background.r, g: background.g, b: background.b } });
  out = out.toColourspace(plan.grayscale ? 'b-w' : 'srgb');
  const auto = plan.quality === undefined || plan.quality === 'auto';
  const quality = auto ? AUTO_QUALITY[format] : (plan.quality as number);
  const timing = animation
    ? { loop: animation.loop ?? 0, ...(animation.delay ? { delay: animation.delay } : {}) }
    : {};
  switch (format) {
    case 'jpg':
      return out.jpeg({ quality, mozjpeg: true });
    case 'png':
      return auto
        ? out.png({ compressionLevel: 9, adaptiveFiltering: true })
        : out.png({ palette: true, quality, compressionLevel: 9 });
    case 'webp':
      return out.webp({ quality, ...timing });
    case 'avif':
      return out.avif({ quality, effort: avifEffort });
    case 'gif':
      return out.gif(timing);
  }
}

/** The resize step: `out` was computed by `predictSize`, so what Sharp makes is what was predicted. */
function resize(image: Sharp, s: Shaping): Sharp {
  const { plan, base, out, background, focal } = s;
  const { width, height } = plan;
  if (width === undefined && height === undefined) return image;
  if (width === undefined || height === undefined) {
    if (out.width === base.width && out.height === base.height) return image;
    return image.resize({ width: out.width, height: out.height, fit: 'fill' });
  }
  const fit = plan.fit ?? 'cover';
  const gravity = plan.gravity ?? 'center';
  const compass = SHARP_GRAVITY[gravity as keyof typeof SHARP_GRAVITY] ?? 'centre';
  switch (fit) {
    case 'fill':
      return image.resize({ width, height, fit: 'fill' });
    case 'inside':
    case 'outside':
      if (out.width === base.width && out.height === base.height) return image;
      return image.resize({ width: out.width, height: out.height, fit: 'fill' });
    case 'contain':
      return image.resize({ width, height, fit: 'contain', position: compass, background });
    case 'pad': {
      const factor = Math.min(1, width / base.width, height / base.height);
      const inner = {
        width: Math.max(1, Math.round(base.width * factor)),
        height: Math.max(1, Math.round(base.height * factor)),
      };
      const resized =
        inner.width === base.width && inner.height === base.height
          ? image
          : image.resize({ ...inner, fit: 'fill' });
      return resized.extend({ ...padOffsets(gravity, inner, { width, height }), background });
    }
    case 'cover': {
      if ((gravity === 'attention' || gravity === 'entropy') && s.strategies) {
        return image.resize({
          width,
          height,
          fit: 'cover',
          position: gravity === 'attention' ? sharp.strategy.attention : sharp.strategy.entropy,
        });
      }
      if (gravity === 'focal' && focal) {
        const factor = Math.max(width / base.width, height / base.height);
        const scaled = {
          width: Math.max(width, Math.round(base.width * factor)),
          height: Math.max(height, Math.round(base.height * factor)),
        };
        const left = Math.min(
          scaled.width - width,
          Math.max(0, Math.round(focal.x * scaled.width - width / 2)),
        );
        const top = Math.min(
          scaled.height - height,
          Math.max(0, Math.round(focal.y * scaled.height - height / 2)),
        );
        return image.resize({ ...scaled, fit: 'fill' }).extract({ left, top, width, height });
      }
      return image.resize({ width, height, fit: 'cover', position: compass });
    }
  }
}
