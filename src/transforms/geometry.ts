import { canonicalPlan } from './grammar.js';
import type { Crop, TransformPlan } from './plan.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** True when the crop lies inside an image of `source` size (px, after EXIF orientation). */
export function cropInside(crop: Crop, source: Size): boolean {
  return crop.x + crop.width <= source.width && crop.y + crop.height <= source.height;
}

/** Size before the resize: the source, cropped, then turned by the rotation. */
export function preResizeSize(plan: TransformPlan, source: Size): Size {
  const cropped = plan.crop ? { width: plan.crop.width, height: plan.crop.height } : source;
  return plan.rotate === 90 || plan.rotate === 270
    ? { width: cropped.height, height: cropped.width }
    : cropped;
}

const scaled = (n: number, factor: number): number => Math.max(1, Math.round(n * factor));

/**
 * The exact output size of a plan (canonicalised first, so `dpr` counts) for a source of `source`
 * size after EXIF orientation, without rendering: GraphQL gives it to front ends to reserve layout
 * space, and the renderer resizes to exactly this size. For an animation, `source.height` is one frame's.
 * - one side: the other follows the ratio; never larger than the source;
 * - cover, contain, fill, pad: exactly the box;
 * - inside: within the box keeping the ratio, never enlarged; outside: covering the box keeping
 *   the ratio, never enlarged.
 */
export function predictSize(given: TransformPlan, source: Size): Size {
  const plan = canonicalPlan(given);
  const base = preResizeSize(plan, source);
  const { width, height } = plan;
  if (width === undefined && height === undefined) return base;
  if (width !== undefined && height !== undefined) {
    const fit = plan.fit ?? 'cover';
    if (fit === 'cover' || fit === 'contain' || fit === 'fill' || fit === 'pad') return { width, height };
    const factor =
      fit === 'inside'
        ? Math.min(width / base.width, height / base.height)
        : Math.max(width / base.width, height / base.height);
    if (factor >= 1) return base;
    return { width: scaled(base.width, factor), height: scaled(base.height, factor) };
  }
  if (width !== undefined) {
    if (width >= base.width) return base;
    return { width, height: scaled(base.height, width / base.width) };
  }
  if (height! >= base.height) return base;
  return { width: scaled(base.width, height! / base.height), height: height! };
}

/**
 * The default width ladder: `count` widths from `min` to `max` on a geometric progression, rounded
 * to even pixels (64 … 3840 in 16 steps: each about 31% wider than the last); widths that round
 * alike are given once, and a ladder of one width is `min`.
 */
export function widthLadder(min = 64, max = 3840, count = 16): number[] {
  const widths: number[] = [];
  const steps = Math.max(1, count - 1);
  for (let i = 0; i < count; i += 1) {
    const w = Math.round((min * (max / min) ** (i / steps)) / 2) * 2;
    if (!widths.includes(w)) widths.push(w);
  }
  return widths;
}

/** What a request for a width off a space's ladder gets. */
export type WidthPolicy = 'any' | 'snap' | 'refuse';

/**
 * The plan with its width moved up to the next width of the ladder (the widest when it is above
 * them all), its height scaled alike when both are given; `undefined` when the width is on the
 * ladder or absent.
 */
export function snapToLadder(plan: TransformPlan, ladder: readonly number[]): TransformPlan | undefined {
  const { width } = plan;
  if (width === undefined || ladder.length === 0 || ladder.includes(width)) return undefined;
  const snapped = ladder.find((w) => w >= width) ?? ladder[ladder.length - 1]!;
  const height =
    plan.height === undefined ? undefined : Math.max(1, Math.round((plan.height * snapped) / width));
  return { ...plan, width: snapped, ...(height === undefined ? {} : { height }) };
}
