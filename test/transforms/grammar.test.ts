import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainError, ErrorCode } from '../../src/errors/index.js';
import {
  BY_FIELD,
  canonicalPlan,
  CORNERS,
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
  ROTATIONS,
  type Operation,
  type OperationDef,
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
    for (const ops of [
      'preset_thumb-w_300',
      'w_300-preset_thumb',
      'preset_',
      'preset_Thumb',
      'preset_-x',
      `preset_${'a'.repeat(64)}`,
    ]) {
      const error = refusal(() => parseOps(ops));
      expect(error.code).toBe(ErrorCode.BadUserInput);
      expect(error.details?.token).toEqual(expect.any(String));
    }
  });

  it('prints back the canonical examples unchanged', () => {
    for (const ops of [
      'w_300-fmt_webp',
      'w_200-h_200-f_cover-fmt_png',
      'w_250-bw-fmt_jpg',
      'c_10,20,300,200-w_150',
      'h_120-r_90-flip-flop-blur_2.5-sharpen_1-q_70-fmt_avif',
    ]) {
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

  it('refuses typed watermark text the URL could not carry back', () => {
    // a lone surrogate (possible in JSON variables) has no UTF-8 form: the URL would say U+FFFD
    for (const text of ['a\uD800', '\uDC00b', 'x\uDBFF']) {
      const error = refusal(() => planFromInput({ watermark: { text } }));
      expect([error.code, error.details]).toEqual([ErrorCode.BadUserInput, { field: 'watermark' }]);
    }
    // a whole astral character is fine, and so is decomposed text (stored composed)
    const astral = planFromInput({ watermark: { text: '📷 Tessera' } });
    expect(planOf(printPlan(astral)).watermark).toEqual(astral.watermark);
    expect(planFromInput({ watermark: { text: 'Cafe\u0301' } }).watermark?.text).toBe('Caf\u00e9');
  });
});

type Field = Operation['field'];

/**
 * One case per operation of the table: a URL that uses it, the plan value it gives, the canonical
 * string, and a value it refuses. An operation added to the table without a case here fails.
 */
const CASES: Readonly<Record<Field, { ops: string; value: unknown; printed: string; bad: string }>> = {
  crop: {
    ops: 'c_10,20,300,200',
    value: { x: 10, y: 20, width: 300, height: 200 },
    printed: 'c_10,20,300,200',
    bad: 'c_10,20,0,200',
  },
  width: { ops: 'w_300', value: 300, printed: 'w_300', bad: 'w_8193' },
  height: { ops: 'h_0200', value: 200, printed: 'h_200', bad: 'h_0' },
  fit: { ops: 'f_inside-h_100-w_200', value: 'inside', printed: 'w_200-h_100-f_inside', bad: 'f_scale' },
  gravity: { ops: 'w_200-h_100-g_ne', value: 'ne', printed: 'w_200-h_100-f_cover-g_ne', bad: 'g_up' },
  background: { ops: 'b_F80', value: 'ff8800', printed: 'b_ff8800', bad: 'b_ff88' },
  rotate: { ops: 'r_270', value: 270, printed: 'r_270', bad: 'r_360' },
  flip: { ops: 'flip', value: true, printed: 'flip', bad: 'flip_1' },
  flop: { ops: 'flop', value: true, printed: 'flop', bad: 'flop_' },
  blur: { ops: 'blur_2.50', value: 2.5, printed: 'blur_2.5', bad: 'blur_1001' },
  sharpen: { ops: 'sharpen_0.75', value: 0.75, printed: 'sharpen_0.75', bad: 'sharpen_0.2' },
  grayscale: { ops: 'bw', value: true, printed: 'bw', bad: 'bw_1' },
  dpr: { ops: 'dpr_1.5-w_200', value: 1.5, printed: 'w_300', bad: 'dpr_0.5' },
  quality: { ops: 'q_70', value: 70, printed: 'q_70', bad: 'q_101' },
  format: { ops: 'fmt_jpeg', value: 'jpg', printed: 'fmt_jpg', bad: 'fmt_tiff' },
  watermark: {
    ops: `wm_${b64('© Tessera')},nw`,
    value: { text: '© Tessera', position: 'nw' },
    printed: `wm_${b64('© Tessera')},nw`,
    bad: `wm_${b64('x')},top`,
  },
};

describe('every operation of the table', () => {
  it('has a case here, and no case names an operation the table lacks', () => {
    expect(Object.keys(CASES).sort()).toEqual(OPERATIONS.map((op) => op.field).sort());
  });

  it.each(OPERATIONS.map((op) => [op.field, op as OperationDef] as const))(
    '%s parses, prints canonically and refuses out of range',
    (field, op) => {
      const c = CASES[field];
      const plan = planOf(c.ops);
      expect(plan[field]).toEqual(c.value);
      expect(printPlan(plan)).toBe(c.printed);
      expect(printPlan(planOf(c.printed))).toBe(c.printed);
      // the token is the table's (dpr is folded into the sides instead)
      const token = op.flag ? op.token : `${op.token}_${op.print(c.value as never)}`;
      if (field !== 'dpr') expect(c.printed.split('-')).toContain(token);
      // typed input takes the same value to the same plan
      expect(planFromInput({ [field]: c.value })).toEqual({ [field]: c.value });
      const error = refusal(() => parseOps(c.bad));
      expect(error.code).toBe(ErrorCode.BadUserInput);
      expect(error.details).toEqual({ token: c.bad });
      expect(error.message).toContain(`"${c.bad}"`);
    },
  );
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
    const empty = refusal(() => parseOps(''));
    expect([empty.code, empty.details?.token]).toEqual([ErrorCode.BadUserInput, '']);
    expect(empty.message).toMatch(/empty/);
    for (const ops of ['--', '-', 'w_300--h_200', '-w_300', 'w_300-']) {
      const error = refusal(() => parseOps(ops));
      expect(error.code).toBe(ErrorCode.BadUserInput);
      expect(error.details).toEqual({ token: ops });
      expect(error.message).toContain(`"${ops}"`);
    }
  });

  it('refuses each bad input of the contract, naming its token', () => {
    const fiveHundred = Array.from({ length: 500 }, (_, i) => `w_${i + 1}`).join('-');
    const bad: [string, string][] = [
      ['w_0', 'w_0'],
      ['w_-5', 'w_-5'],
      ['w_99999', 'w_99999'],
      ['q_500', 'q_500'],
      ['fmt_bmp', 'fmt_bmp'],
      ['r_45', 'r_45'],
      ['nonsense_1', 'nonsense_1'],
      ['w_10-w_20', 'w_20'],
      [fiveHundred, 'w_25'], // the first operation over the cap of 24
      [Array(500).fill('bw').join('-'), 'bw'],
      ['w_300-wm_not*base64', 'wm_not*base64'],
      [
        'w_300-wm_' + Buffer.from([0xc3, 0x28]).toString('base64url'),
        'wm_' + Buffer.from([0xc3, 0x28]).toString('base64url'),
      ], // not UTF-8
      ['preset_x-w_10', 'preset_x-w_10'],
      ['--', '--'],
    ];
    for (const [ops, token] of bad) {
      const error = refusal(() => parseOps(ops));
      expect({ ops: ops.slice(0, 30), code: error.code, details: error.details }).toEqual({
        ops: ops.slice(0, 30),
        code: ErrorCode.BadUserInput,
        details: { token },
      });
      expect(error.message).toContain(`"${token}"`);
    }
  });

  it('names the token that runs past the length limit', () => {
    const long = `w_300-h_200-c_${'1'.repeat(2000)},1,1,1`;
    const error = refusal(() => parseOps(long));
    expect(error.message).toContain('longer than 1024 characters');
    expect(error.details?.token).toBe(`c_${'1'.repeat(38)}`);
  });

  it('caps the number of operations', () => {
    const ops = 'w_300-h_200-f_cover-g_n-b_ffffff-q_80-fmt_webp-r_90-flip-flop-blur_1-sharpen_1-bw';
    expect(() => parseOps(ops)).not.toThrow();
    const error = refusal(() => parseOps(ops, { maxOperations: 12 }));
    expect(error.message).toContain('at most 12 operations');
    expect(error.message).toContain('"bw"');
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
    expect(planFromInput({ width: 300, format: 'webp', quality: null, fit: undefined })).toEqual({
      width: 300,
      format: 'webp',
    });
    const error = refusal(() => planFromInput({ width: 99999 }));
    expect(error.code).toBe(ErrorCode.BadUserInput);
    expect(error.message).toContain('Expected integer between 1 and 8192 for w but received 99999');
    expect(error.details).toEqual({ field: 'width' });
    expect(refusal(() => planFromInput({ rotate: 45 })).details).toEqual({ field: 'rotate' });
    expect(refusal(() => planFromInput({ format: 'bmp' })).details).toEqual({ field: 'format' });
    expect(refusal(() => planFromInput({ crop: { x: 0, y: 0, width: 0, height: 5 } })).details).toEqual({
      field: 'crop',
    });
    expect(refusal(() => planFromInput({ watermark: { text: '' } })).details).toEqual({ field: 'watermark' });
    expect(refusal(() => planFromInput({ width: 5000, dpr: 2 })).code).toBe(ErrorCode.BadUserInput);
    expect(refusal(() => planFromInput({ unknown: 1 })).details).toEqual({ field: 'unknown' });
  });

  it('gives the same plan as the URL for the same transform', () => {
    const fromUrl = planOf(
      `c_1,2,30,40-w_20-h_10-f_pad-g_ne-b_ff0000-q_70-fmt_png-r_180-flip-blur_0.5-bw-wm_${b64('x')},nw`,
    );
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
      expect.arrayContaining([
        'w_',
        'h_',
        'f_',
        'g_',
        'c_',
        'b_',
        'q_',
        'fmt_',
        'r_',
        'flip',
        'flop',
        'blur_',
        'sharpen_',
        'bw',
        'dpr_',
        'wm_',
      ]),
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
  fc
    .oneof(
      fc.string({ unit: hex, minLength: 3, maxLength: 3 }),
      fc.string({ unit: hex, minLength: 6, maxLength: 6 }),
      fc.string({ unit: hex, minLength: 8, maxLength: 8 }),
    )
    .map((c) => `b_${c}`),
  fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.constant('auto')).map((q) => `q_${q}`),
  fc.constantFrom(...OUTPUT_FORMATS, 'auto', 'jpeg').map((f) => `fmt_${f}`),
  fc.constantFrom('0', '90', '180', '270').map((r) => `r_${r}`),
  fc.constantFrom('flip', 'flop', 'bw'),
  fc.integer({ min: 30, max: 100_000 }).map((n) => `blur_${n / 100}`),
  fc.integer({ min: 30, max: 1000 }).map((n) => `sharpen_${n / 100}`),
  fc.integer({ min: 100, max: 200 }).map((n) => `dpr_${n / 100}`),
);
const arbWatermark = fc
  .tuple(
    fc
      .string({ minLength: 1, maxLength: 30 })
      .filter((t) => !/\p{Cc}/u.test(t) && t === t.normalize('NFC') && !/[\uD800-\uDFFF]/.test(t)),
    fc.constantFrom('', ',nw', ',ne', ',sw', ',se'),
  )
  .map(([text, corner]) => `wm_${b64(text)}${corner}`);

/** Valid ops strings in any order, one token per key, sometimes a watermark last. */
const arbOps = fc
  .tuple(
    fc.uniqueArray(arbToken, { selector: (t) => t.split('_')[0], minLength: 1, maxLength: 12 }),
    fc.option(arbWatermark),
  )
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
        if (JSON.stringify(canonicalPlan(pb)) === JSON.stringify(ca))
          expect(printPlan(pb)).toBe(printPlan(pa));
        // the shuffled tokens of a string mean the same transform
        const shuffled = a.includes('wm_') ? a : a.split('-').reverse().join('-');
        expect(printPlan(planOf(shuffled, { maxOutputDimension: 20_000 }))).toBe(printPlan(pa));
      }),
      { numRuns: 1000 },
    );
  });

  it('parse throws nothing but BAD_USER_INPUT DomainErrors on arbitrary strings', () => {
    const alphabet = fc.constantFrom(
      ...'wfhgcbqmtrlpoxauz_-,.0123456789~=+/ '.split(''),
      'w_',
      'fmt_',
      'wm_',
      'preset_',
      'flip',
      'dpr_',
      '-',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: alphabet, maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 40 }),
        ),
        (ops) => {
          try {
            parseOps(ops);
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe(ErrorCode.BadUserInput);
            expect(typeof (error as DomainError).details?.token).toBe('string');
          }
        },
      ),
      { numRuns: 2000 },
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
      { numRuns: 2000 },
    );
  });
});

// ---- properties of plans built from the table's domains ---------------------------------------

const enumValues = (field: Field): readonly (string | number)[] => {
  const shape = BY_FIELD.get(field)!.graphql;
  if (shape.kind !== 'enum') throw new Error(`${field} is not an enum`);
  return shape.values;
};
/** Any number in [min, max] (the table keeps two decimals). */
const real = (min: number, max: number) => fc.double({ min, max, noNaN: true });
const side = fc.oneof(fc.integer({ min: 1, max: 2048 }), fc.integer({ min: 1, max: 8192 }));
const hexColour = fc
  .tuple(
    fc.constantFrom(3, 6, 8),
    fc.boolean(),
    fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: 8, maxLength: 8 }),
  )
  .map(([length, hash, digits]) => `${hash ? '#' : ''}${digits.slice(0, length).join('')}`);
const watermarkText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  .map((t) => (t.length % 2 === 0 ? t.normalize('NFD') : t))
  .filter((t) => !/\p{Cc}/u.test(t) && [...t.normalize('NFC')].length <= 100);

/** Raw values for each field, as a caller might send them; the table's `check` makes them plan values. */
const RAW: { readonly [K in Field]: fc.Arbitrary<unknown> } = {
  crop: fc.record({
    x: fc.nat(1_000_000),
    y: fc.nat(1_000_000),
    width: fc.integer({ min: 1, max: 1_000_000 }),
    height: fc.integer({ min: 1, max: 1_000_000 }),
  }),
  width: side,
  height: side,
  fit: fc.constantFrom(...enumValues('fit')),
  gravity: fc.constantFrom(...enumValues('gravity')),
  background: hexColour,
  rotate: fc.constantFrom(0, ...ROTATIONS),
  flip: fc.boolean(),
  flop: fc.boolean(),
  blur: real(0.3, 1000),
  sharpen: real(0.3, 10),
  grayscale: fc.boolean(),
  dpr: fc.oneof(fc.constantFrom(1, 1.5, 2, 3), real(1, 4)),
  quality: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constant('auto')),
  format: fc.constantFrom(...enumValues('format')),
  watermark: fc.record(
    { text: watermarkText, position: fc.constantFrom(...CORNERS) },
    { requiredKeys: ['text'] },
  ),
};

const LIMITS = { maxOutputDimension: 8192, maxOperations: 24 };

/** `dpr` times each side within the output limit, as the grammar requires. */
const folds = (p: TransformPlan): boolean =>
  [p.width, p.height].every(
    (s) => s === undefined || Math.round(s * (p.dpr ?? 1)) <= LIMITS.maxOutputDimension,
  );

/** Any valid plan: every field present or not, each value what the table's check gives. */
const arbPlan: fc.Arbitrary<TransformPlan> = fc
  .record(
    Object.fromEntries(
      OPERATIONS.map((op) => [op.field, RAW[op.field].map((v) => (op as OperationDef).check(v, LIMITS))]),
    ) as Record<Field, fc.Arbitrary<unknown>>,
    { requiredKeys: [] },
  )
  .map((p) => p as TransformPlan)
  .filter(folds);

/** The same transform written differently: defaults spelled out, dpr unfolded, fit and gravity where they cannot matter. */
function rewritten(
  p: TransformPlan,
  extra: { halve: boolean; gravity: boolean; defaults: boolean },
): TransformPlan {
  const q: Record<string, unknown> = { ...canonicalPlan(p) };
  if (extra.defaults)
    Object.assign(q, {
      rotate: q.rotate ?? 0,
      quality: q.quality ?? 'auto',
      flip: q.flip ?? false,
      flop: q.flop ?? false,
      grayscale: q.grayscale ?? false,
    });
  const w = q.width as number | undefined;
  const h = q.height as number | undefined;
  if (extra.halve && (w !== undefined || h !== undefined) && (w ?? 2) % 2 === 0 && (h ?? 2) % 2 === 0) {
    Object.assign(q, {
      dpr: 2,
      ...(w !== undefined ? { width: w / 2 } : {}),
      ...(h !== undefined ? { height: h / 2 } : {}),
    });
  }
  if (extra.gravity && q.gravity === undefined) q.gravity = q.fit === 'cover' ? 'center' : 'attention';
  if (w === undefined || h === undefined) q.fit ??= 'fill';
  return q as TransformPlan;
}

describe('properties of plans from the table', () => {
  const at = (s: string) => (s === '' ? {} : planOf(s));

  it('the printed string parses back to the same canonical plan (canonical is a fixed point)', () => {
    fc.assert(
      fc.property(arbPlan, (p) => {
        const printed = printPlan(p);
        expect(printPlan(at(printed))).toBe(printed);
        expect(canonicalPlan(at(printed))).toEqual(canonicalPlan(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('canonicalPlan is idempotent and keeps the printed string', () => {
    fc.assert(
      fc.property(arbPlan, (p) => {
        const c = canonicalPlan(p);
        expect(canonicalPlan(c)).toEqual(c);
        expect(printPlan(c)).toBe(printPlan(p));
        // table order, no defaults
        const order = OPERATIONS.map((op) => op.field as string);
        const keys = Object.keys(c);
        expect(keys).toEqual([...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
        for (const op of OPERATIONS as readonly OperationDef[])
          if (op.default !== undefined) expect(c[op.field]).not.toEqual(op.default);
      }),
      { numRuns: 2000 },
    );
  });

  it('equal canonical plans print equal strings, different ones different strings', () => {
    fc.assert(
      fc.property(arbPlan, arbPlan, (a, b) => {
        const same = isDeepStrictEqual(canonicalPlan(a), canonicalPlan(b));
        expect(printPlan(a) === printPlan(b)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });

  it('one transform written in different ways prints one string', () => {
    const ways = fc.record({ halve: fc.boolean(), gravity: fc.boolean(), defaults: fc.boolean() });
    fc.assert(
      fc.property(arbPlan, ways, (p, extra) => {
        const q = rewritten(p, extra);
        expect(canonicalPlan(q)).toEqual(canonicalPlan(p));
        expect(printPlan(q)).toBe(printPlan(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('a plan differing in one value that matters prints a different string', () => {
    fc.assert(
      fc.property(
        arbPlan,
        fc.constantFrom(...OPERATIONS.map((op) => op.field)),
        fc.nat(),
        (p, field, seed) => {
          const op = BY_FIELD.get(field)!;
          const other = fc.sample(
            RAW[field].map((v) => op.check(v, LIMITS)),
            { numRuns: 1, seed },
          )[0];
          const q = { ...p, [field]: other } as TransformPlan;
          fc.pre(folds(q));
          const same = isDeepStrictEqual(canonicalPlan(p), canonicalPlan(q));
          expect(printPlan(p) === printPlan(q)).toBe(same);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('typed input of a canonical plan gives that plan back', () => {
    fc.assert(
      fc.property(arbPlan, (p) => {
        const c = canonicalPlan(p);
        const input = planFromInput(c);
        expect(input).toEqual(c);
        expect(canonicalPlan(input)).toEqual(c);
        // and so does its GraphQL face, quality auto being null
        expect(canonicalPlan(planFromInput({ ...planToOutput(c), quality: c.quality ?? null }))).toEqual(c);
      }),
      { numRuns: 2000 },
    );
  });
});
