/** The vocabulary of transforms: every value an operation may take, as `as const` lists. */

export const FITS = ['cover', 'contain', 'fill', 'inside', 'outside', 'pad'] as const;
export type Fit = (typeof FITS)[number];

export const COMPASS = ['center', 'n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'] as const;
export const GRAVITIES = [...COMPASS, 'attention', 'entropy', 'focal'] as const;
export type Gravity = (typeof GRAVITIES)[number];

export const OUTPUT_FORMATS = ['jpg', 'png', 'webp', 'avif', 'gif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export type FormatChoice = OutputFormat | 'auto';

export const CORNERS = ['nw', 'ne', 'sw', 'se'] as const;
export type Corner = (typeof CORNERS)[number];

export const ROTATIONS = [90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

/** A region of the source in pixels (after EXIF orientation). */
export interface Crop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Watermark {
  readonly text: string;
  readonly position: Corner;
}

/**
 * A transform: every field optional, each validated by the operations table. The canonical form
 * (see `canonicalPlan`) is the identity of a variant.
 */
export interface TransformPlan {
  /** Output width, px. */
  readonly width?: number;
  /** Output height, px. */
  readonly height?: number;
  readonly fit?: Fit;
  readonly gravity?: Gravity;
  readonly crop?: Crop;
  /** `rrggbb` or `rrggbbaa`, lowercase. */
  readonly background?: string;
  /** 1–100, or `auto` for the format's default. */
  readonly quality?: number | 'auto';
  readonly format?: FormatChoice;
  /** Clockwise degrees. */
  readonly rotate?: Rotation | 0;
  readonly flip?: boolean;
  readonly flop?: boolean;
  /** Gaussian blur sigma. */
  readonly blur?: number;
  /** Sharpen sigma. */
  readonly sharpen?: number;
  readonly grayscale?: boolean;
  /** Device pixel ratio: multiplies width and height (folded into them by canonicalisation). */
  readonly dpr?: number;
  readonly watermark?: Watermark;
}

/** Limits the grammar enforces while parsing. */
export interface GrammarLimits {
  /** Largest output width or height, px. */
  readonly maxOutputDimension: number;
  /** Most tokens in one ops string. */
  readonly maxOperations: number;
}

export const DEFAULT_LIMITS: GrammarLimits = { maxOutputDimension: 8192, maxOperations: 24 };
