/**
 * The operations table: each operation of the URL grammar defined once — its plan field, URL
 * token, argument and bounds, canonical position, GraphQL shape and documentation. Parsing,
 * printing, canonical form, `TransformInput`, validation and the README table all derive from
 * it; the renderer applies the plan in the stage order given here.
 */
import {
  CORNERS,
  FITS,
  GRAVITIES,
  OUTPUT_FORMATS,
  ROTATIONS,
  type Corner,
  type Crop,
  type FormatChoice,
  type GrammarLimits,
  type TransformPlan,
  type Watermark,
} from './plan.js';

/** A value a token or an input field cannot take; the message names the operation. */
export class OperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

/** How the GraphQL layer exposes an operation's field. */
export type GraphQLShape =
  | { readonly kind: 'Int' }
  | { readonly kind: 'Float' }
  | { readonly kind: 'Boolean' }
  | { readonly kind: 'String' }
  | { readonly kind: 'enum'; readonly name: string; readonly values: readonly (string | number)[] }
  | { readonly kind: 'crop' }
  | { readonly kind: 'watermark' };

/** Where in the render an operation acts; stages run in this order. */
export const STAGES = ['geometry', 'orientation', 'filter', 'overlay', 'encode'] as const;
export type Stage = (typeof STAGES)[number];

type Field = keyof TransformPlan;
type ValueOf<K extends Field> = NonNullable<TransformPlan[K]>;

export interface OperationDef<K extends Field = Field> {
  readonly field: K;
  /** URL token key: `w` in `w_300`; flags are the whole token (`bw`). */
  readonly token: string;
  readonly flag: boolean;
  readonly stage: Stage;
  /** Argument, for docs. */
  readonly argument: string;
  /** Range and default, for docs. */
  readonly range: string;
  readonly description: string;
  readonly graphql: GraphQLShape;
  /**
   * The value that means "not asked": the canonical form leaves it out (`g_center`, `q_auto`,
   * `r_0`, flags off). `f_` has none: with both sides it is always printed, cover when not given.
   */
  readonly default?: ValueOf<K>;
  /** Decodes a URL value. @throws OperationError */
  parse(raw: string, limits: GrammarLimits): ValueOf<K>;
  /** Checks a typed value (from GraphQL or a stored preset). @throws OperationError */
  check(value: unknown, limits: GrammarLimits): ValueOf<K>;
  /** The canonical URL value (flags print nothing). */
  print(value: ValueOf<K>): string;
}

const expected = (what: string, token: string, received: unknown): OperationError =>
  new OperationError(
    `Expected ${what} for ${token} but received ${typeof received === 'string' ? received || '""' : JSON.stringify(received)}`,
  );

function integer(token: string, min: number, max: (limits: GrammarLimits) => number) {
  const check = (value: unknown, limits: GrammarLimits): number => {
    const hi = max(limits);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > hi) {
      throw expected(`integer between ${min} and ${hi}`, token, value);
    }
    return value;
  };
  return {
    check,
    parse: (raw: string, limits: GrammarLimits): number => {
      if (!/^\d{1,9}$/.test(raw)) throw expected(`integer between ${min} and ${max(limits)}`, token, raw);
      return check(Number(raw), limits);
    },
  };
}

/** Numbers with at most two decimals, printed in their shortest form (`1.50` → `1.5`). */
function decimal(token: string, min: number, max: number) {
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw expected(`number between ${min} and ${max}`, token, value);
    }
    return Math.round(value * 100) / 100;
  };
  return {
    check,
    parse: (raw: string): number => {
      if (!/^\d{1,4}(\.\d{1,2})?$/.test(raw))
        throw expected(`number between ${min} and ${max} with at most 2 decimals`, token, raw);
      return check(Number(raw));
    },
    print: (value: number): string => String(Math.round(value * 100) / 100),
  };
}

function oneOf<T extends string | number>(
  token: string,
  values: readonly T[],
  aliases: Readonly<Record<string, T>> = {},
) {
  const check = (value: unknown): T => {
    if (!(values as readonly unknown[]).includes(value))
      throw expected(`one of ${values.join(', ')}`, token, value);
    return value as T;
  };
  return {
    check,
    parse: (raw: string): T => {
      if (Object.hasOwn(aliases, raw)) return aliases[raw]!;
      const candidate = typeof values[0] === 'number' && /^\d+$/.test(raw) ? Number(raw) : raw;
      return check(candidate);
    },
  };
}

const flag = (token: string) => ({
  check: (value: unknown): boolean => {
    if (typeof value !== 'boolean') throw expected('true or false', token, value);
    return value;
  },
  parse: (raw: string): boolean => {
    if (raw !== '') throw new OperationError(`${token} takes no value (received ${raw})`);
    return true;
  },
});

const HEX = /^([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/;

/** `rgb`, `rrggbb` or `rrggbbaa`, any case → `rrggbb` (opaque) or `rrggbbaa`. */
function colour(value: unknown): string {
  if (typeof value !== 'string') throw expected('hex colour rgb, rrggbb or rrggbbaa', 'b', value);
  const hex = value.replace(/^#/, '').toLowerCase();
  if (!HEX.test(hex)) throw expected('hex colour rgb, rrggbb or rrggbbaa', 'b', value);
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  return full.length === 8 && full.endsWith('ff') ? full.slice(0, 6) : full;
}

function cropOf(value: unknown): Crop {
  const c = value as Partial<Crop> | null;
  const ok = (n: unknown, min: number) =>
    typeof n === 'number' && Number.isInteger(n) && n >= min && n <= 1_000_000;
  if (
    typeof c !== 'object' ||
    c === null ||
    !ok(c.x, 0) ||
    !ok(c.y, 0) ||
    !ok(c.width, 1) ||
    !ok(c.height, 1)
  ) {
    throw expected(
      'crop x,y,width,height (integers, x and y ≥ 0, width and height ≥ 1)',
      'c',
      typeof value === 'string' ? value : value,
    );
  }
  return { x: c.x!, y: c.y!, width: c.width!, height: c.height! };
}

const MAX_WATERMARK = 100;

function watermarkOf(value: unknown): Watermark {
  const w = value as Partial<Watermark> | null;
  if (typeof w !== 'object' || w === null || typeof w.text !== 'string')
    throw expected('watermark text', 'wm', value);
  const text = w.text.normalize('NFC');
  const length = [...text].length;
  if (length < 1 || length > MAX_WATERMARK)
    throw expected(`watermark text of 1 to ${MAX_WATERMARK} characters`, 'wm', text);
  if (/\p{Cc}/u.test(text))
    throw new OperationError('Expected watermark text without control characters for wm');
  // a lone surrogate has no UTF-8 form: the URL would carry U+FFFD, a different text
  if (/\p{Cs}/u.test(text))
    throw new OperationError(
      'Expected watermark text of whole Unicode characters (no lone surrogate) for wm',
    );
  const position = w.position ?? 'se';
  if (!(CORNERS as readonly string[]).includes(position))
    throw expected(`one of ${CORNERS.join(', ')}`, 'wm position', position);
  return { text, position: position as Corner };
}

const dimension = (token: string) => integer(token, 1, (l) => l.maxOutputDimension);
const w = dimension('w');
const h = dimension('h');
const fit = oneOf('f', FITS);
const gravity = oneOf('g', GRAVITIES);
const quality = integer('q', 1, () => 100);
const format = oneOf<FormatChoice>('fmt', [...OUTPUT_FORMATS, 'auto'], { jpeg: 'jpg' });
const rotate = oneOf<0 | 90 | 180 | 270>('r', [0, ...ROTATIONS]);
const blur = decimal('blur', 0.3, 1000);
const sharpen = decimal('sharpen', 0.3, 10);
const dpr = decimal('dpr', 1, 4);

/**
 * The table, in canonical order: crop first (it acts on the source), then geometry, colour and
 * filters, quality and format, and the watermark last (its value may contain `-`, so it runs to
 * the end of the ops string).
 */
export const OPERATIONS = [
  {
    field: 'crop',
    token: 'c',
    flag: false,
    stage: 'geometry',
    argument: 'x,y,w,h (px)',
    range: 'inside the source',
    description: 'Crop a region of the source (after EXIF orientation) before anything else.',
    graphql: { kind: 'crop' },
    parse: (raw: string) => {
      const parts = raw.split(',');
      if (parts.length !== 4 || parts.some((p) => !/^\d{1,7}$/.test(p)))
        throw expected('x,y,w,h (four integers)', 'c', raw);
      const [x, y, width, height] = parts.map(Number) as [number, number, number, number];
      return cropOf({ x, y, width, height });
    },
    check: (value: unknown) => cropOf(value),
    print: (c: Crop) => `${c.x},${c.y},${c.width},${c.height}`,
  } satisfies OperationDef<'crop'>,
  {
    field: 'width',
    token: 'w',
    flag: false,
    stage: 'geometry',
    argument: 'integer (px)',
    range: '1–MAX_OUTPUT_DIMENSION',
    description:
      'Output width. Alone, the height follows the aspect ratio; images are never enlarged unless both sides are given.',
    graphql: { kind: 'Int' },
    parse: w.parse,
    check: w.check,
    print: String,
  } satisfies OperationDef<'width'>,
  {
    field: 'height',
    token: 'h',
    flag: false,
    stage: 'geometry',
    argument: 'integer (px)',
    range: '1–MAX_OUTPUT_DIMENSION',
    description: 'Output height.',
    graphql: { kind: 'Int' },
    parse: h.parse,
    check: h.check,
    print: String,
  } satisfies OperationDef<'height'>,
  {
    field: 'fit',
    token: 'f',
    flag: false,
    stage: 'geometry',
    argument: FITS.join(' | '),
    range: 'cover',
    description:
      'With both w and h: cover crops to fill the box; contain letterboxes with b_; fill stretches; inside fits within, keeping the ratio; outside covers, keeping the ratio; pad is contain without enlarging the image.',
    graphql: { kind: 'enum', name: 'Fit', values: FITS },
    parse: fit.parse,
    check: fit.check,
    print: String,
  } satisfies OperationDef<'fit'>,
  {
    field: 'gravity',
    token: 'g',
    flag: false,
    stage: 'geometry',
    argument: GRAVITIES.join(' | '),
    range: 'center',
    default: 'center',
    description:
      'What cover keeps (compass point, attention = salient region, entropy = busiest region, focal = the asset focal point), or where contain/pad places the image.',
    graphql: { kind: 'enum', name: 'Gravity', values: GRAVITIES },
    parse: gravity.parse,
    check: gravity.check,
    print: String,
  } satisfies OperationDef<'gravity'>,
  {
    field: 'background',
    token: 'b',
    flag: false,
    stage: 'geometry',
    argument: 'hex rgb | rrggbb | rrggbbaa',
    range: 'white for JPEG, transparent otherwise',
    description: 'Colour of letterbox padding and of transparent areas in formats without alpha.',
    graphql: { kind: 'String' },
    parse: colour,
    check: colour,
    print: String,
  } satisfies OperationDef<'background'>,
  {
    field: 'rotate',
    token: 'r',
    flag: false,
    stage: 'orientation',
    argument: '90 | 180 | 270',
    range: '0',
    default: 0,
    description:
      'Rotate clockwise (after EXIF auto-orientation, before resizing: w and h describe the output).',
    graphql: { kind: 'Int' },
    parse: rotate.parse,
    check: rotate.check,
    print: String,
  } satisfies OperationDef<'rotate'>,
  {
    field: 'flip',
    token: 'flip',
    flag: true,
    stage: 'orientation',
    argument: '—',
    range: '',
    default: false,
    description: 'Mirror vertically (top to bottom).',
    graphql: { kind: 'Boolean' },
    ...flag('flip'),
    print: () => '',
  } satisfies OperationDef<'flip'>,
  {
    field: 'flop',
    token: 'flop',
    flag: true,
    stage: 'orientation',
    argument: '—',
    range: '',
    default: false,
    description: 'Mirror horizontally (left to right).',
    graphql: { kind: 'Boolean' },
    ...flag('flop'),
    print: () => '',
  } satisfies OperationDef<'flop'>,
  {
    field: 'blur',
    token: 'blur',
    flag: false,
    stage: 'filter',
    argument: 'sigma',
    range: '0.3–1000',
    description: 'Gaussian blur.',
    graphql: { kind: 'Float' },
    parse: blur.parse,
    check: blur.check,
    print: blur.print,
  } satisfies OperationDef<'blur'>,
  {
    field: 'sharpen',
    token: 'sharpen',
    flag: false,
    stage: 'filter',
    argument: 'sigma',
    range: '0.3–10',
    description: 'Sharpen (unsharp mask on the luminance).',
    graphql: { kind: 'Float' },
    parse: sharpen.parse,
    check: sharpen.check,
    print: sharpen.print,
  } satisfies OperationDef<'sharpen'>,
  {
    field: 'grayscale',
    token: 'bw',
    flag: true,
    stage: 'filter',
    argument: '—',
    range: '',
    default: false,
    description: 'Black and white.',
    graphql: { kind: 'Boolean' },
    ...flag('bw'),
    print: () => '',
  } satisfies OperationDef<'grayscale'>,
  {
    field: 'dpr',
    token: 'dpr',
    flag: false,
    stage: 'geometry',
    argument: 'ratio',
    range: '1–4',
    default: 1,
    description:
      'Device pixel ratio: multiplies w and h (the canonical URL carries the product: w_300-dpr_2 is w_600).',
    graphql: { kind: 'Float' },
    parse: dpr.parse,
    check: dpr.check,
    print: dpr.print,
  } satisfies OperationDef<'dpr'>,
  {
    field: 'quality',
    token: 'q',
    flag: false,
    stage: 'encode',
    argument: 'integer | auto',
    range: '1–100, auto',
    default: 'auto',
    description: 'Encoder quality; auto picks a sensible value per format (JPEG 80, WebP 80, AVIF 50).',
    graphql: { kind: 'Int' },
    parse: (raw: string, limits: GrammarLimits) => (raw === 'auto' ? 'auto' : quality.parse(raw, limits)),
    check: (value: unknown, limits: GrammarLimits) =>
      value === 'auto' ? 'auto' : quality.check(value, limits),
    print: String,
  } satisfies OperationDef<'quality'>,
  {
    field: 'format',
    token: 'fmt',
    flag: false,
    stage: 'encode',
    argument: 'jpg | png | webp | avif | gif | auto',
    range: 'the URL extension',
    description:
      'Output format; auto picks AVIF, WebP or JPEG (PNG with alpha) from the Accept header and answers with Vary: Accept.',
    graphql: { kind: 'enum', name: 'ImageFormat', values: [...OUTPUT_FORMATS, 'auto'] },
    parse: format.parse,
    check: format.check,
    print: String,
  } satisfies OperationDef<'format'>,
  {
    field: 'watermark',
    token: 'wm',
    flag: false,
    stage: 'overlay',
    argument: 'base64url text[,nw|ne|sw|se]',
    range: 'corner se',
    description: 'Text watermark in a corner. Always the last token: its value runs to the end of the ops.',
    graphql: { kind: 'watermark' },
    parse: (raw: string) => {
      const [encoded = '', corner, ...rest] = raw.split(',');
      if (rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(encoded))
        throw expected('base64url text, optionally followed by ,corner', 'wm', raw);
      const bytes = Buffer.from(encoded, 'base64url');
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      if (Buffer.from(text, 'utf8').toString('base64url') !== encoded.replace(/=+$/, ''))
        throw expected('base64url of UTF-8 text', 'wm', raw);
      return watermarkOf({ text, position: corner ?? 'se' });
    },
    check: watermarkOf,
    print: (wm: Watermark) =>
      `${Buffer.from(wm.text, 'utf8').toString('base64url')}${wm.position === 'se' ? '' : `,${wm.position}`}`,
  } satisfies OperationDef<'watermark'>,
] as const;

export type Operation = (typeof OPERATIONS)[number];

/** Operations by URL token key. */
export const BY_TOKEN: ReadonlyMap<string, OperationDef> = new Map(
  OPERATIONS.map((op) => [op.token, op as OperationDef]),
);
/** Operations by plan field. */
export const BY_FIELD: ReadonlyMap<Field, OperationDef> = new Map(
  OPERATIONS.map((op) => [op.field, op as OperationDef]),
);

/** One row per operation, for the README's URL grammar table. */
export function describeOperations(): {
  token: string;
  argument: string;
  range: string;
  description: string;
}[] {
  return OPERATIONS.map((op) => ({
    token: op.flag ? op.token : `${op.token}_`,
    argument: op.argument,
    range: op.range,
    description: op.description,
  }));
}
