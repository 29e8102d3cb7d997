/**
 * The URL grammar: `original`, `preset_{slug}`, or hyphen-joined `key_value` tokens, parsed and
 * printed through the operations table. Canonical form: fixed order, defaults and irrelevant
 * values dropped, numbers normalised, `dpr` folded into `w`/`h`; equal transforms print equal
 * strings, and that string is part of the variant key.
 */
import { DomainError, ErrorCode } from '../errors/index.js';
import { BY_FIELD, BY_TOKEN, OPERATIONS, OperationError, type OperationDef } from './operations.js';
import { COMPASS, DEFAULT_LIMITS, type Corner, type GrammarLimits, type TransformPlan } from './plan.js';

export type ParsedOps =
  | { readonly kind: 'original' }
  | { readonly kind: 'preset'; readonly slug: string }
  | { readonly kind: 'transform'; readonly plan: TransformPlan };

export const PRESET_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Longest ops string read at all (500 tokens never get parsed one by one). */
const MAX_OPS_LENGTH = 1024;

const refuse = (message: string, token: string): DomainError =>
  new DomainError(ErrorCode.BadUserInput, message, { details: { token } });

type MutablePlan = { -readonly [K in keyof TransformPlan]: TransformPlan[K] };

/** The limits with defaults (`maxOutputDimension` 8192, `maxOperations` 24) for those not given. */
export function limitsOf(given: Partial<GrammarLimits> = {}): GrammarLimits {
  return {
    maxOutputDimension: given.maxOutputDimension ?? DEFAULT_LIMITS.maxOutputDimension,
    maxOperations: given.maxOperations ?? DEFAULT_LIMITS.maxOperations,
  };
}

/**
 * Parses the ops segment of an image URL (without the extension).
 * @throws DomainError BAD_USER_INPUT naming the offending token (`details.token`).
 */
export function parseOps(ops: string, given: Partial<GrammarLimits> = {}): ParsedOps {
  const limits = limitsOf(given);
  if (ops === 'original') return { kind: 'original' };
  if (ops.length === 0) throw refuse('The transform is empty.', '');
  if (ops.length > MAX_OPS_LENGTH) throw tooLong(ops, limits);
  if (ops.startsWith('preset_')) {
    const slug = ops.slice('preset_'.length);
    if (!PRESET_SLUG.test(slug))
      throw refuse(
        `"${ops}": "${slug}" is not a preset name, and a preset cannot be combined with other operations.`,
        ops,
      );
    return { kind: 'preset', slug };
  }
  const tokens = splitTokens(ops);
  if (tokens.length > limits.maxOperations) throw tooMany(tokens[limits.maxOperations]!, limits);
  const plan: MutablePlan = {};
  for (const token of tokens) {
    const underscore = token.indexOf('_');
    const key = underscore === -1 ? token : token.slice(0, underscore);
    const raw = underscore === -1 ? '' : token.slice(underscore + 1);
    const op = BY_TOKEN.get(key);
    if (!op || (op.flag && underscore !== -1) || (!op.flag && underscore === -1)) {
      throw refuse(`Unknown operation "${token}".`, token);
    }
    if (plan[op.field] !== undefined) throw refuse(`"${key}" appears more than once ("${token}").`, token);
    try {
      (plan as Record<string, unknown>)[op.field] = op.parse(raw, limits);
    } catch (error) {
      if (error instanceof OperationError) throw refuse(`${error.message} (in "${token}").`, token);
      throw error;
    }
  }
  checkFolded(plan, limits, tokens.find((t) => t.startsWith('dpr_')) ?? '');
  return { kind: 'transform', plan };
}

const tooMany = (token: string, limits: GrammarLimits): DomainError =>
  refuse(
    `A transform has at most ${limits.maxOperations} operations: "${token}" is operation ${limits.maxOperations + 1}.`,
    token,
  );

/**
 * An ops string over `MAX_OPS_LENGTH` characters, refused from its first `MAX_OPS_LENGTH`
 * characters only: by the first operation over the cap when there are that many, else by the
 * token that runs past the length (its first 40 characters).
 */
function tooLong(ops: string, limits: GrammarLimits): DomainError {
  const head = ops.slice(0, MAX_OPS_LENGTH).split('-');
  if (head.length > limits.maxOperations) return tooMany(head[limits.maxOperations]!, limits);
  const start = MAX_OPS_LENGTH - head.at(-1)!.length;
  const end = ops.indexOf('-', MAX_OPS_LENGTH);
  const token = ops.slice(start, end === -1 ? undefined : end).slice(0, 40);
  return refuse(
    `The transform is longer than ${MAX_OPS_LENGTH} characters ("${token}" runs past it).`,
    token,
  );
}

/**
 * Splits on `-`, keeping a `-` that starts a number with its token (so `w_-5` is refused as the
 * value -5, not as an unknown token), and letting `wm_` take the rest of the string.
 */
function splitTokens(ops: string): string[] {
  const parts = ops.split('-');
  const tokens: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i]!;
    if (part.startsWith('wm_')) {
      tokens.push(parts.slice(i).join('-'));
      break;
    }
    const previous = tokens.at(-1);
    if (previous !== undefined && previous.endsWith('_') && /^[0-9.]/.test(part))
      tokens[tokens.length - 1] = `${previous}-${part}`;
    else if (part === '')
      throw refuse(`Empty operation in "${ops}" (two hyphens in a row, or a hyphen at an end).`, ops);
    else tokens.push(part);
  }
  return tokens;
}

/** `dpr` times `w`/`h` must stay within the output limit. */
function checkFolded(plan: TransformPlan, limits: GrammarLimits, token: string): void {
  if (plan.dpr === undefined) return;
  for (const side of [plan.width, plan.height]) {
    if (side !== undefined && Math.round(side * plan.dpr) > limits.maxOutputDimension) {
      throw refuse(
        `dpr ${plan.dpr} makes the output larger than ${limits.maxOutputDimension} px.`,
        token || `dpr_${plan.dpr}`,
      );
    }
  }
}

/**
 * The canonical plan: `dpr` folded into `w`/`h`, defaults and values that cannot matter dropped.
 * Idempotent.
 */
export function canonicalPlan(plan: TransformPlan): TransformPlan {
  const out: MutablePlan = { ...plan };
  if (out.dpr !== undefined) {
    if (out.width !== undefined) out.width = Math.round(out.width * out.dpr);
    if (out.height !== undefined) out.height = Math.round(out.height * out.dpr);
    delete out.dpr;
  }
  const box = out.width !== undefined && out.height !== undefined;
  if (!box) delete out.fit;
  else out.fit ??= 'cover';
  const fit = out.fit;
  const gravityMatters =
    fit === 'cover' ||
    ((fit === 'contain' || fit === 'pad') &&
      out.gravity !== undefined &&
      (COMPASS as readonly string[]).includes(out.gravity));
  if (!gravityMatters) delete out.gravity;
  // in table order, without defaults and absent values
  const canonical: MutablePlan = {};
  for (const op of OPERATIONS as readonly OperationDef[]) {
    const value = out[op.field];
    if (value === undefined || value === op.default) continue;
    (canonical as Record<string, unknown>)[op.field] = value;
  }
  return canonical;
}

/** The canonical ops string of a plan (`''` for the empty plan: callers serve the original). */
export function printPlan(plan: TransformPlan): string {
  const canonical = canonicalPlan(plan);
  const tokens: string[] = [];
  for (const op of OPERATIONS as readonly OperationDef[]) {
    const value = canonical[op.field];
    if (value === undefined) continue;
    tokens.push(op.flag ? op.token : `${op.token}_${(op.print as (v: unknown) => string)(value)}`);
  }
  return tokens.join('-');
}

/**
 * A plan from typed values (GraphQL input, a stored preset): every field checked as the URL
 * grammar checks it.
 * @throws DomainError BAD_USER_INPUT naming the field.
 */
export function planFromInput(
  input: TransformInputShape | TransformPlan | Readonly<Record<string, unknown>>,
  given: Partial<GrammarLimits> = {},
): TransformPlan {
  const limits = limitsOf(given);
  const plan: MutablePlan = {};
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    const op = BY_FIELD.get(field as keyof TransformPlan);
    if (!op)
      throw new DomainError(ErrorCode.BadUserInput, `Unknown transform field "${field}".`, {
        details: { field },
      });
    try {
      (plan as Record<string, unknown>)[op.field] = op.check(value, limits);
    } catch (error) {
      if (error instanceof OperationError) {
        throw new DomainError(ErrorCode.BadUserInput, `${error.message} (transform.${field}).`, {
          details: { field },
        });
      }
      throw error;
    }
  }
  checkFolded(plan, limits, 'dpr');
  return plan;
}

/**
 * A transform as GraphQL and stored presets carry it: the plan's fields, each optional or null;
 * `quality` null means auto; a watermark's position defaults to `se`.
 */
export type TransformInputShape = {
  readonly [K in keyof TransformPlan]?:
    | (K extends 'quality'
        ? number
        : K extends 'watermark'
          ? { readonly text: string; readonly position?: Corner | null }
          : TransformPlan[K])
    | null;
};

/** A transform as GraphQL answers it: `quality` is a number or absent (auto). */
export type TransformOutputShape = Omit<TransformPlan, 'quality'> & { readonly quality?: number };

/** The GraphQL shape of a plan: the plan's own values, `quality: 'auto'` left out. */
export function planToOutput(plan: TransformPlan): TransformOutputShape {
  const { quality, ...rest } = plan;
  return quality === undefined || quality === 'auto' ? rest : { ...rest, quality };
}

/** `override`'s fields win over `base`'s (a preset with a request's format, say). */
export function mergePlans(base: TransformPlan, override: TransformPlan): TransformPlan {
  const merged: MutablePlan = { ...base };
  for (const [key, value] of Object.entries(override) as [keyof TransformPlan, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** Number of operations in a plan (for a policy's cap on operations per request). */
export const operationCount = (plan: TransformPlan): number =>
  Object.values(plan).filter((v) => v !== undefined).length;
