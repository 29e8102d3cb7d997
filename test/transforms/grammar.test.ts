import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainError, ErrorCode } from '../../src/errors/index.js';
import {
  canonicalPlan,
  describeOperations,
  FITS,
  GRAVITIES,
  mergePlans,
  OPERATIONS,
  OUTPUT_FORMATS,
  parseOps,
  planFromInput,
  planToOutput,
  printPlan,
  type TransformPlan,
} from '../../src/transforms/index.js';

/** The plan of a transform ops string (fails the test for `original` and presets). */
function planOf(ops: string, limits?: Parameters<typeof parseOps>[1]): TransformPlan {
  const parsed = parseOps(ops, limits);
  if (parsed.kind !== 'transform') throw new Error(`${ops} parsed as ${parsed.kind}`);
  return parsed.plan;
}

/** The DomainError `run` throws (fails the test when it throws something else or nothing). */
function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('URL grammar: the forms of the ops segment', () => {
  it('reads original and presets', () => {
    expect(parseOps('original')).toEqual({ kind: 'original' });
    expect(parseOps('preset_thumb')).toEqual({ kind: 'preset', slug: 'thumb' });
    expect(parseOps('preset_hero-2x')).toEqual({ kind: 'preset', slug: 'hero-2x' });
  });

  it('refuses a preset combined with other tokens, or a bad slug', () => {
    for (const ops of ['preset_thumb-w_300', 'w_300-preset_thumb', 'preset_', 'preset_Thumb', 'preset_-x', `preset_${'a'.repeat(64)}`]) {
      const error = refusal(() => parseOps(ops));
      expect(error.code).toBe(ErrorCode.BadUserInput);
      expect(error.details?.token).toEqual(expect.any(String));
    }
  });

  it('prints back the canonical examples unchanged', () => {
    for (const ops of ['w_300-fmt_webp', 'w_200-h_200-f_cover-fmt_png', 'w_250-bw-fmt_jpg', 'c_10,20,300,200-w_150', 'h_120-r_90-flip-flop-blur_2.5-sharpen_1-q_70-fmt_avif']) {
      expect(printPlan(planOf(ops))).toBe(ops);
    }
  });

  it('accepts tokens in any order and prints them in the canonical one', () => {
    expect(printPlan(planOf('fmt_webp-w_300'))).toBe('w_300-fmt_webp');
    expect(printPlan(planOf('bw-fmt_jpg-w_250'))).toBe('w_250-bw-fmt_jpg');
  });

  it('drops defaults and what cannot matter', () => {
    expect(printPlan(planOf('w_300-q_auto-g_center-r_0'))).toBe('w_300');
    // fit and gravity mean nothing without both sides
    expect(printPlan(planOf('w_300-f_contain-g_n'))).toBe('w_300');
    // with both sides the fit is always printed, cover being the default
    expect(printPlan(planOf('w_200-h_100'))).toBe('w_200-h_100-f_cover');
    expect(printPlan(planOf('w_200-h_100-g_center'))).toBe('w_200-h_100-f_cover');
    expect(printPlan(planOf('w_200-h_100-g_attention'))).toBe('w_200-h_100-f_cover-g_attention');
    // gravity places a letterboxed image, but a fill or inside resize ignores it
    expect(printPlan(planOf('w_200-h_100-f_contain-g_n'))).toBe('w_200-h_100-f_contain-g_n');
    expect(printPlan(planOf('w_200-h_100-f_fill-g_n'))).toBe('w_200-h_100-f_fill');
    expect(printPlan(planOf('w_200-h_100-f_inside-g_e'))).toBe('w_200-h_100-f_inside');
  });

  it('normalises numbers and colours', () => {
    expect(printPlan(planOf('blur_2.50'))).toBe('blur_2.5');
    expect(printPlan(planOf('blur_3.0'))).toBe('blur_3');
    expect(printPlan(planOf('w_0300'))).toBe('w_300');
    expect(printPlan(planOf('w_10-h_10-f_pad-b_FFF'))).toBe('w_10-h_10-f_pad-b_ffffff');
    expect(printPlan(planOf('w_10-h_10-f_pad-b_336699ff'))).toBe('w_10-h_10-f_pad-b_336699');
    expect(printPlan(planOf('w_10-h_10-f_pad-b_33669980'))).toBe('w_10-h_10-f_pad-b_33669980');
    expect(printPlan(planOf('fmt_jpeg'))).toBe('fmt_jpg');
  });

  it('folds dpr into the sides, so equal outputs get equal strings', () => {
    expect(printPlan(planOf('w_300-dpr_2'))).toBe('w_600');
    expect(printPlan(planOf('w_300-dpr_2'))).toBe(printPlan(planOf('w_600')));
    expect(printPlan(planOf('w_301-h_101-dpr_1.5'))).toBe('w_452-h_152-f_cover');
    // without a side to multiply dpr changes nothing
    expect(printPlan(planOf('dpr_3-fmt_png'))).toBe('fmt_png');
    // the product must respect the output limit
    const error = refusal(() => parseOps('w_5000-dpr_2'));
    expect(error.details?.token).toBe('dpr_2');
    expect(error.message).toContain('8192');
    expect(printPlan(planOf('w_5000-dpr_2', { maxOutputDimension: 10_000 }))).toBe('w_10000');
  });

  it('carries a text watermark as base64url, always last, corner se by default', () => {
    const plan = planOf(`w_300-wm_${b64('© Tessera — 2026')}`);
    expect(plan.watermark).toEqual({ text: '© Tessera — 2026', position: 'se' });
    expect(printPlan(plan)).toBe(`w_300-wm_${b64('© Tessera — 2026')}`);
    // base64url may hold "-" and "_": the watermark takes the rest of the string
    const tricky = '>>>?~~~'; // encodes to "Pj4-P35-fg", with hyphens
    expect(b64(tricky)).toContain('-');
    expect(planOf(`wm_${b64(tricky)},nw`).watermark).toEqual({ text: tricky, position: 'nw' });
    expect(printPlan(planOf(`wm_${b64(tricky)},nw`))).toBe(`wm_${b64(tricky)},nw`);
    expect(printPlan(planOf(`wm_${b64('hi')},se`))).toBe(`wm_${b64('hi')}`);
    // anything after the watermark belongs to it, and is refused when it is not base64url text
    expect(refusal(() => parseOps(`wm_${b64('hi')}-w_300`)).details?.token).toMatch(/^wm_/);
  });

  it('refuses bad watermarks', () => {
    for (const value of [
      `${b64('hi')}=`, // padding
      b64('a'.repeat(101)), // too long
      b64('line\nbreak'), // control character
      Buffer.from([0xff, 0xfe]).toString('base64url'), // not UTF-8
      `${b64('hi')},middle`, // no such corner
      '',
    ]) {
      const error = refusal(() => parseOps(`wm_${value}`));
      expect(error.code).toBe(ErrorCode.BadUserInput);
      expect(error.details?.token).toBe(`wm_${value}`);
    }
    expect(planOf(`wm_${b64('a'.repeat(100))}`).watermark?.text).toHaveLength(100);
  });
});

describe('URL grammar: refusals name the offending token', () => {
  const cases: [string, string, RegExp][] = [
    ['w_10-w_20', 'w_20', /more than once/],
    ['w_0', 'w_0', /Expected integer between 1 and 8192 for w but received 0/],
    ['w_-5', 'w_-5', /Expected integer between 1 and 8192 for w but received -5/],
    ['w_99999', 'w_99999', /Expected integer between 1 and 8192 for w but received 99999/],
    ['w_1.5', 'w_1.5', /Expected integer/],
    ['q_500', 'q_500', /Expected integer between 1 and 100 for q but received 500/],
    ['fmt_bmp', 'fmt_bmp', /Expected one of jpg, png, webp, avif, gif, auto for fmt but received bmp/],
    ['r_45', 'r_45', /Expected one of 0, 90, 180, 270 for r but received 45/],
    ['nonsense_1', 'nonsense_1', /Unknown operation/],
    ['w_300-nonsense', 'nonsense', /Unknown operation/],
    ['flip_1', 'flip_1', /Unknown operation/],
    ['w', 'w', /Unknown operation/],
    ['w_', 'w_', /Expected integer/],
    ['blur_0.2', 'blur_0.2', /Expected number between 0.3 and 1000 for blur/],
    ['sharpen_11', 'sharpen_11', /Expected number between 0.3 and 10 for sharpen/],
    ['blur_1.234', 'blur_1.234', /at most 2 decimals/],
    ['dpr_5', 'dpr_5', /Expected number between 1 and 4 for dpr/],
    ['b_ggg', 'b_ggg', /hex colour/],
    ['b_ffff', 'b_ffff', /hex colour/],
    ['c_1,2,3', 'c_1,2,3', /x,y,w,h/],
    ['c_0,0,0,10', 'c_0,0,0,10', /crop/],
    ['f_stretch', 'f_stretch', /Expected one of cover, contain, fill, inside, outside, pad for f/],
    ['g_middle', 'g_middle', /for g but received middle/],
  ];

  it.each(cases)('%s', (ops, token, message) => {
    const error = refusal(() => parseOps(ops));
    expect(error.code).toBe(ErrorCode.BadUserInput);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(token);
    expect(error.details).toEqual({ token });
  });

  it('refuses empty tokens and empty ops', () => {
    for (const ops of ['', 'w_300--h_200', '-w_300', 'w_300-']) {
      expect(refusal(() => parseOps(ops)).code).toBe(ErrorCode.BadUserInput);
    }
  });

  it('caps the number of operations', () => {
    const ops = 'w_300-h_200-f_cover-g_n-b_ffffff-q_80-fmt_webp-r_90-flip-flop-blur_1-sharpen_1-bw';
    expect(() => parseOps(ops)).not.toThrow();
    const error = refusal(() => parseOps(ops, { maxOperations: 12 }));
    expect(error.message).toContain('at most 12 operations');
    expect(error.details?.token).toBe('bw');
  });

  it('refuses 500 tokens cheaply', () => {
    const ops = Array.from({ length: 500 }, (_, i) => `w_${i + 1}`).join('-');
    const started = process.hrtime.bigint();
    for (let i = 0; i < 1000; i += 1) refusal(() => parseOps(ops));
    const perCallMs = Number(process.hrtime.bigint() - started) / 1e6 / 1000;
    expect(perCallMs).toBeLessThan(1);
    expect(refusal(() => parseOps('w_1-'.repeat(20) + 'h_1')).code).toBe(ErrorCode.BadUserInput);
  });
});

describe('typed input (GraphQL, presets)', () => {
  it('checks as the URL does, naming the field', () => {
    expect(planFromInput({ width: 300, format: 'webp', quality: null, fit: undefined })).toEqual({ width: 300, format: 'webp' });
    const error = refusal(() => planFromInput({ width: 99999 }));
    expect(error.code).toBe(ErrorCode.BadUserInput);
    expect(error.message).toContain('Expected integer between 1 and 8192 for w but received 99999');
    expect(error.details).toEqual({ field: 'width' });
    expect(refusal(() => planFromInput({ rotate: 45 })).details).toEqual({ field: 'rotate' });
    expect(refusal(() => planFromInput({ format: 'bmp' })).details).toEqual({ field: 'format' });
    expect(refusal(() => planFromInput({ crop: { x: 0, y: 0, width: 0, height: 5 } })).details).toEqual({ field: 'crop' });
    expect(refusal(() => planFromInput({ watermark: { text: '' } })).details).toEqual({ field: 'watermark' });
    expect(refusal(() => planFromInput({ width: 5000, dpr: 2 })).code).toBe(ErrorCode.BadUserInput);
    expect(refusal(() => planFromInput({ unknown: 1 })).details).toEqual({ field: 'unknown' });
  });

  it('gives the same plan as the URL for the same transform', () => {
    const fromUrl = planOf(`c_1,2,30,40-w_20-h_10-f_pad-g_ne-b_ff0000-q_70-fmt_png-r_180-flip-blur_0.5-bw-wm_${b64('x')},nw`);
    const fromInput = planFromInput({
      crop: { x: 1, y: 2, width: 30, height: 40 },
      width: 20,
      height: 10,
      fit: 'pad',
      gravity: 'ne',
      background: 'FF0000',
      quality: 70,
      format: 'png',
      rotate: 180,
      flip: true,
      blur: 0.5,
      grayscale: true,
      watermark: { text: 'x', position: 'nw' },
    });
    expect(canonicalPlan(fromInput)).toEqual(canonicalPlan(fromUrl));
    expect(printPlan(fromInput)).toBe(printPlan(fromUrl));
  });

  it('shows quality auto as absent', () => {
    expect(planToOutput({ width: 10, quality: 'auto' })).toEqual({ width: 10 });
    expect(planToOutput({ quality: 70 })).toEqual({ quality: 70 });
  });

  it('merges a preset with an override', () => {
    const preset = planOf('w_400-h_300-f_cover-q_70-fmt_jpg');
    expect(printPlan(mergePlans(preset, { format: 'webp' }))).toBe('w_400-h_300-f_cover-q_70-fmt_webp');
    expect(printPlan(mergePlans(preset, {}))).toBe(printPlan(preset));
  });
});

describe('the operations table', () => {
  it('describes every operation once, for the README', () => {
    const rows = describeOperations();
    expect(rows).toHaveLength(OPERATIONS.length);
    expect(new Set(rows.map((r) => r.token)).size).toBe(rows.length);
    expect(rows.map((r) => r.token)).toEqual(
      expect.arrayContaining(['w_', 'h_', 'f_', 'g_', 'c_', 'b_', 'q_', 'fmt_', 'r_', 'flip', 'flop', 'blur_', 'sharpen_', 'bw', 'dpr_', 'wm_']),
    );
    for (const row of rows) expect(row.description.length).toBeGreaterThan(5);
  });

  it('puts the watermark last in the canonical order', () => {
    expect(OPERATIONS.at(-1)?.field).toBe('watermark');
  });
});

// ---- properties -------------------------------------------------------------------------------

const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
const arbToken = fc.oneof(
  fc.integer({ min: 1, max: 8192 }).map((n) => `w_${n}`),
  fc.integer({ min: 1, max: 8192 }).map((n) => `h_${n}`),
  fc.constantFrom(...FITS).map((f) => `f_${f}`),
  fc.constantFrom(...GRAVITIES).map((g) => `g_${g}`),
  fc
    .tuple(fc.nat(5000), fc.nat(5000), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }))
    .map(([x, y, w, h]) => `c_${x},${y},${w},${h}`),
  fc.oneof(fc.string({ unit: hex, minLength: 3, maxLength: 3 }), fc.string({ unit: hex, minLength: 6, maxLength: 6 }), fc.string({ unit: hex, minLength: 8, maxLength: 8 })).map((c) => `b_${c}`),
  fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.constant('auto')).map((q) => `q_${q}`),
  fc.constantFrom(...OUTPUT_FORMATS, 'auto', 'jpeg').map((f) => `fmt_${f}`),
  fc.constantFrom('0', '90', '180', '270').map((r) => `r_${r}`),
  fc.constantFrom('flip', 'flop', 'bw'),
  fc.integer({ min: 30, max: 100_000 }).map((n) => `blur_${n / 100}`),
  fc.integer({ min: 30, max: 1000 }).map((n) => `sharpen_${n / 100}`),
  fc.integer({ min: 100, max: 200 }).map((n) => `dpr_${n / 100}`),
);
const arbWatermark = fc
  .tuple(fc.string({ minLength: 1, maxLength: 30 }).filter((t) => !/\p{Cc}/u.test(t) && t === t.normalize('NFC') && !/[\uD800-\uDFFF]/.test(t)), fc.constantFrom('', ',nw', ',ne', ',sw', ',se'))
  .map(([text, corner]) => `wm_${b64(text)}${corner}`);

/** Valid ops strings in any order, one token per key, sometimes a watermark last. */
const arbOps = fc
  .tuple(fc.uniqueArray(arbToken, { selector: (t) => t.split('_')[0], minLength: 1, maxLength: 12 }), fc.option(arbWatermark))
  .map(([tokens, wm]) => [...tokens, ...(wm ? [wm] : [])].join('-'));

describe('properties', () => {
  it('printing a parsed transform gives a canonical string', () => {
    fc.assert(
      fc.property(arbOps, (ops) => {
        const printed = printPlan(planOf(ops, { maxOutputDimension: 20_000 }));
        if (printed === '') return;
        expect(printPlan(planOf(printed, { maxOutputDimension: 20_000 }))).toBe(printed);
      }),
      { numRuns: 2000 },
    );
  });

  it('canonicalPlan is idempotent, and equal canonical plans print equal strings', () => {
    fc.assert(
      fc.property(arbOps, arbOps, (a, b) => {
        const pa = planOf(a, { maxOutputDimension: 20_000 });
        const pb = planOf(b, { maxOutputDimension: 20_000 });
        const ca = canonicalPlan(pa);
        expect(canonicalPlan(ca)).toEqual(ca);
        expect(printPlan(ca)).toBe(printPlan(pa));
        if (JSON.stringify(canonicalPlan(pb)) === JSON.stringify(ca)) expect(printPlan(pb)).toBe(printPlan(pa));
        // the shuffled tokens of a string mean the same transform
        const shuffled = a.includes('wm_') ? a : a.split('-').reverse().join('-');
        expect(printPlan(planOf(shuffled, { maxOutputDimension: 20_000 }))).toBe(printPlan(pa));
      }),
      { numRuns: 1000 },
    );
  });

  it('parse throws nothing but BAD_USER_INPUT DomainErrors on arbitrary strings', () => {
    const alphabet = fc.constantFrom(...'wfhgcbqmtrlpoxauz_-,.0123456789~=+/ '.split(''), 'w_', 'fmt_', 'wm_', 'preset_', 'flip', 'dpr_', '-');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: alphabet, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), (ops) => {
        try {
          parseOps(ops);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe(ErrorCode.BadUserInput);
          expect(typeof (error as DomainError).details?.token).toBe('string');
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('typed input never throws anything but DomainErrors', () => {
    const anything = fc.anything({ withBigInt: false });
    const fields = OPERATIONS.map((op) => op.field);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...fields), anything, { maxKeys: 5 }), (input) => {
        try {
          planFromInput(input);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
