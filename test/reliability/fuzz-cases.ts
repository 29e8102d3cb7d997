/**
 * Fuzzing arbitraries and properties shared by the regular suite (`fuzz.test.ts`, a few thousand
 * cases) and the stress script (`test/stress/fuzz.ts`, well over 100,000): op strings made of the
 * grammar's tokens with values in and out of range, mixed with garbage; and signed image URLs
 * mutated in their signature, expiry, key id and path. The properties throw plain Errors naming the
 * case, so they run under Jest and on their own alike.
 */
import fc from 'fast-check';
import { DomainError, ErrorCode } from '../../src/errors/index.js';
import { signPath } from '../../src/signing/url-signature.js';
import {
  canonicalPlan,
  CORNERS,
  FITS,
  GRAVITIES,
  OUTPUT_FORMATS,
  parseOps,
  planFromInput,
  printPlan,
  type GrammarLimits,
} from '../../src/transforms/index.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** Integers around the interesting edges (0, 1, limits, overflow), and some anywhere. */
const number = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.integer({ min: 1, max: 2000 }),
  fc.constantFrom(
    99,
    100,
    101,
    1023,
    1024,
    1025,
    8191,
    8192,
    8193,
    65_535,
    65_536,
    999_999_999,
    10_000_000_000,
  ),
  fc.integer({ min: 0, max: 2_000_000_000 }),
);
const decimalText = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map((n) => String(n / 100)),
  fc.constantFrom(
    '0.29',
    '0.3',
    '1000',
    '1000.01',
    '4',
    '4.01',
    '1.005',
    '.5',
    '5.',
    '1e3',
    'NaN',
    'Infinity',
    '-1',
  ),
);
const word = (values: readonly string[]) => fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 8 }));
const garbage = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '..',
    '%2e%2e',
    '%00',
    '/',
    '\\',
    '?',
    '#',
    '%',
    '\u0000',
    '\u202e',
    'é',
    '🦀',
    ' ',
    '+',
    '__proto__',
    'constructor',
  ),
);

/** One token of the grammar, its value in range or not; sometimes garbage. */
export const opToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: number.map((n) => `w_${n}`) },
  { weight: 3, arbitrary: number.map((n) => `h_${n}`) },
  { weight: 2, arbitrary: word(FITS).map((v) => `f_${v}`) },
  { weight: 2, arbitrary: word(GRAVITIES).map((v) => `g_${v}`) },
  {
    weight: 1,
    arbitrary: fc.tuple(number, number, number, number).map(([x, y, w, h]) => `c_${x},${y},${w},${h}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF#'.split('')), maxLength: 9 }),
        fc.string({ maxLength: 6 }),
      )
      .map((v) => `b_${v}`),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(number.map(String), fc.constantFrom('auto', 'AUTO', '')).map((v) => `q_${v}`),
  },
  { weight: 2, arbitrary: word([...OUTPUT_FORMATS, 'auto', 'jpeg']).map((v) => `fmt_${v}`) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, 90, 180, 270, 45, 360), number).map((v) => `r_${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('flip', 'flop', 'bw', 'flip_1', 'bw_') },
  { weight: 1, arbitrary: decimalText.map((v) => `blur_${v}`) },
  { weight: 1, arbitrary: decimalText.map((v) => `sharpen_${v}`) },
  { weight: 1, arbitrary: decimalText.map((v) => `dpr_${v}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.string({ minLength: 1, maxLength: 30 }).map(b64), fc.string({ maxLength: 10 })),
        fc.oneof(fc.constantFrom('', ...CORNERS.map((c) => `,${c}`)), fc.string({ maxLength: 4 })),
      )
      .map(([text, corner]) => `wm_${text}${corner}`),
  },
  { weight: 2, arbitrary: garbage },
);

/** One token with a value in range (on a source about 160 px wide: crops stay small, blur modest). */
const validToken: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 1024 }).map((n) => `w_${n}`),
  fc.integer({ min: 1, max: 1024 }).map((n) => `h_${n}`),
  fc.constantFrom(...FITS).map((v) => `f_${v}`),
  fc.constantFrom(...GRAVITIES).map((v) => `g_${v}`),
  fc
    .tuple(
      fc.nat({ max: 80 }),
      fc.nat({ max: 50 }),
      fc.integer({ min: 1, max: 80 }),
      fc.integer({ min: 1, max: 50 }),
    )
    .map(([x, y, w, h]) => `c_${x},${y},${w},${h}`),
  fc.constantFrom('b_fff', 'b_FF0000', 'b_00000080', 'b_123abc'),
  fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.constant('auto')).map((v) => `q_${v}`),
  fc.constantFrom(...OUTPUT_FORMATS, 'auto', 'jpeg').map((v) => `fmt_${v}`),
  fc.constantFrom(90, 180, 270).map((v) => `r_${v}`),
  fc.constantFrom('flip', 'flop', 'bw'),
  fc.integer({ min: 30, max: 2000 }).map((n) => `blur_${n / 100}`),
  fc.integer({ min: 30, max: 1000 }).map((n) => `sharpen_${n / 100}`),
  fc.integer({ min: 100, max: 400 }).map((n) => `dpr_${n / 100}`),
  fc
    .tuple(fc.constantFrom('Tessera', '© 2025', 'a-b_c', 'ünïcode'), fc.constantFrom('', ',nw', ',se'))
    .map(([text, corner]) => `wm_${b64(text)}${corner}`),
);

/** Valid transforms, one token per operation, in any order (the watermark, if any, last). */
const validOps: fc.Arbitrary<string> = fc
  .uniqueArray(validToken, { selector: (t) => t.split('_')[0], minLength: 1, maxLength: 7 })
  .map((tokens) =>
    [...tokens.filter((t) => !t.startsWith('wm_')), ...tokens.filter((t) => t.startsWith('wm_'))].join('-'),
  );

/** An ops string: a valid transform, tokens in and out of range joined by `-` (sometimes doubled), the special forms, or a long run. */
export const opsString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: validOps },
  { weight: 12, arbitrary: fc.array(opToken, { minLength: 1, maxLength: 8 }).map((t) => t.join('-')) },
  { weight: 1, arbitrary: fc.array(opToken, { minLength: 1, maxLength: 4 }).map((t) => t.join('--')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('original', 'ORIGINAL', 'original-w_10', '', '-', 'w_10-', '-w_10'),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('')).map((s) => `preset_${s}`) },
  { weight: 1, arbitrary: fc.array(opToken, { minLength: 20, maxLength: 60 }).map((t) => t.join('-')) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3000 }).map((n) => 'w'.repeat(n)) },
);

/** File extensions a URL may end with. */
export const extension: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('jpg', 'png', 'webp', 'gif', 'avif') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('jpeg', 'JPG', 'bmp', 'svg', 'html', '', 'jpg.php', 'png%00.html'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** Characters that may appear raw in a URL path segment; everything else is percent-encoded. */
export const encodePathSegment = (segment: string): string =>
  [...segment].map((c) => (/^[A-Za-z0-9_.,~-]$/.test(c) ? c : encodeURIComponent(c))).join('');

const fail = (what: string, input: string, detail: unknown): never => {
  throw new Error(
    `${what} for ${JSON.stringify(input)}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`,
  );
};

/**
 * The grammar on any string: it parses, or throws a BAD_USER_INPUT DomainError naming a token;
 * a parsed transform prints a canonical string that parses back to itself (idempotent), and the
 * canonical plan passes the typed-input check unchanged.
 */
export function checkGrammar(ops: string, limits: GrammarLimits): void {
  let parsed;
  try {
    parsed = parseOps(ops, limits);
  } catch (error) {
    if (!(error instanceof DomainError)) return fail('parseOps threw a non-domain error', ops, String(error));
    if (error.code !== ErrorCode.BadUserInput) fail('parseOps refused with another code', ops, error.code);
    if (typeof error.details?.token !== 'string')
      fail('parseOps refused without naming a token', ops, error.details);
    return;
  }
  if (parsed.kind !== 'transform') return;
  const canonical = canonicalPlan(parsed.plan);
  if (JSON.stringify(canonicalPlan(canonical)) !== JSON.stringify(canonical))
    fail('canonicalPlan is not idempotent', ops, canonical);
  const printed = printPlan(canonical);
  if (printed === '') return;
  const again = parseOps(printed, limits);
  if (again.kind !== 'transform') return fail('the canonical string is not a transform', ops, printed);
  if (printPlan(again.plan) !== printed)
    fail('printing is not idempotent', ops, [printed, printPlan(again.plan)]);
  if (printPlan(planFromInput(canonical, limits)) !== printed)
    fail('the canonical plan does not survive the typed-input check', ops, printed);
}

/** What a mutation of a signed URL does. */
export interface SignedMutation {
  readonly label: string;
  /** The URL to request. */
  readonly url: string;
  /** True when the mutation leaves a URL that must still be served (it changed nothing that matters). */
  readonly valid: boolean;
}

/** A signed image URL as parts, and the secret that signed it. */
export interface SignedParts {
  readonly origin: string;
  /** `/v1/priv/{org}/{tenant}/{space}/img/{asset}/v{n}/{file}` */
  readonly path: string;
  readonly exp: number;
  readonly kid: string;
  readonly sig: string;
  readonly secret: Buffer;
  /** Another organization's key (a real one), for cross-organization forgeries. */
  readonly foreign: { readonly kid: string; readonly secret: Buffer };
}

const withQuery = (origin: string, path: string, query: string) =>
  `${origin}${path}${query ? `?${query}` : ''}`;
const q = (exp: string | number, kid: string, sig: string) => `exp=${exp}&kid=${kid}&sig=${sig}`;

/** Mutations of a valid signed URL: each must be refused (401/403/404/400) unless it changes nothing. */
export function signedMutation(parts: SignedParts): fc.Arbitrary<SignedMutation> {
  const { origin, path, exp, kid, sig, secret, foreign } = parts;
  const segments = path.split('/');
  const sigChar = fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''),
  );
  const now = Math.floor(Date.now() / 1000);
  return fc.oneof(
    fc.constant({ label: 'unchanged', url: withQuery(origin, path, q(exp, kid, sig)), valid: true }),
    fc.tuple(fc.nat({ max: sig.length - 1 }), sigChar).map(([i, c]) => {
      const mutated = `${sig.slice(0, i)}${c}${sig.slice(i + 1)}`;
      return {
        label: `sig char ${i} → ${c}`,
        url: withQuery(origin, path, q(exp, kid, mutated)),
        valid: mutated === sig,
      };
    }),
    fc.constantFrom(
      { label: 'sig cut', url: withQuery(origin, path, q(exp, kid, sig.slice(0, -1))), valid: false },
      { label: 'sig longer', url: withQuery(origin, path, q(exp, kid, `${sig}A`)), valid: false },
      { label: 'sig empty', url: withQuery(origin, path, q(exp, kid, '')), valid: false },
      { label: 'sig missing', url: withQuery(origin, path, `exp=${exp}&kid=${kid}`), valid: false },
      { label: 'no query', url: withQuery(origin, path, ''), valid: false },
      { label: 'sig twice', url: withQuery(origin, path, `${q(exp, kid, sig)}&sig=${sig}`), valid: false },
      { label: 'exp twice', url: withQuery(origin, path, `${q(exp, kid, sig)}&exp=${exp}`), valid: false },
      { label: 'sig padded', url: withQuery(origin, path, q(exp, kid, `${sig}=`)), valid: false },
      {
        label: 'sig standard base64',
        url: withQuery(origin, path, q(exp, kid, sig.replaceAll('-', '+').replaceAll('_', '/'))),
        valid: !/[-_]/.test(sig),
      },
      { label: 'kid empty', url: withQuery(origin, path, q(exp, '', sig)), valid: false },
      { label: 'kid foreign', url: withQuery(origin, path, q(exp, foreign.kid, sig)), valid: false },
      {
        label: 'signed by another organization',
        url: withQuery(origin, path, q(exp, foreign.kid, signPath(foreign.secret, path, exp))),
        valid: false,
      },
      {
        label: 'expired, genuinely signed',
        url: withQuery(origin, path, q(now - 60, kid, signPath(secret, path, now - 60))),
        valid: false,
      },
      {
        label: 'exp zero, genuinely signed',
        url: withQuery(origin, path, q(0, kid, signPath(secret, path, 0))),
        valid: false,
      },
      {
        label: 'pub instead of priv',
        url: withQuery(origin, path.replace('/v1/priv/', '/v1/pub/'), q(exp, kid, sig)),
        valid: false,
      },
      {
        label: 'pub without signature',
        url: withQuery(origin, path.replace('/v1/priv/', '/v1/pub/'), ''),
        valid: false,
      },
    ),
    fc.oneof(fc.integer({ min: -10, max: 10 }), fc.integer({ min: 1, max: 10_000_000 })).map((d) => ({
      label: `exp ${d >= 0 ? '+' : ''}${d}`,
      url: withQuery(origin, path, q(exp + d, kid, sig)),
      valid: d === 0,
    })),
    fc
      .oneof(
        fc.string({ maxLength: 14 }),
        fc.constantFrom('-1', '1e10', '0x10', '99999999999999999999', ' 1', '1.5'),
      )
      .map((e) => ({
        label: `exp ${JSON.stringify(e)}`,
        url: withQuery(origin, path, `exp=${encodeURIComponent(e)}&kid=${kid}&sig=${sig}`),
        valid: e === String(exp),
      })),
    fc.string({ minLength: 1, maxLength: 20 }).map((k) => ({
      label: `kid ${JSON.stringify(k)}`,
      url: withQuery(origin, path, `exp=${exp}&kid=${encodeURIComponent(k)}&sig=${sig}`),
      valid: k === kid,
    })),
    // the path: one segment replaced (org, tenant, space, asset, version, file) under the same signature
    fc
      .tuple(
        fc.integer({ min: 3, max: segments.length - 1 }),
        fc.oneof(garbage, fc.constantFrom('w_10.jpg', 'original.jpg', 'v2', 'v0', 'img')),
      )
      .map(([i, value]) => {
        const mutated = [...segments];
        mutated[i] = encodePathSegment(value);
        const mutatedPath = mutated.join('/');
        return {
          label: `path segment ${i} → ${JSON.stringify(value)}`,
          url: withQuery(origin, mutatedPath, q(exp, kid, sig)),
          valid: mutatedPath === path,
        };
      }),
  );
}
