import type { AssetEntity, PresetEntity, SpaceEntity } from '../db/entities/index.js';
import { badInput, DomainError, ErrorCode } from '../errors/index.js';
import { toPublicId } from '../ids/index.js';
import { expiryOf, publicImageUrl, signedImageUrl, type ImageAddress } from '../signing/image-urls.js';
import type { SigningKeyService } from '../signing/signing-keys.service.js';
import {
  canonicalPlan,
  mergePlans,
  naturalFormat,
  parseOps,
  predictSize,
  preResizeSize,
  printPlan,
  snapToLadder,
  type WidthPolicy,
  type FormatChoice,
  type GrammarLimits,
  type TransformPlan,
} from '../transforms/index.js';
import { originalExtension } from './delivery.service.js';
import { presetPlan } from './presets.service.js';
import { widthRules } from './widths.js';
import { sourceOf } from './asset-source.js';

/** The slugs an asset's URLs carry. */
export interface SpacePath {
  readonly org: string;
  readonly tenant: string;
  readonly space: string;
}

/** What a URL asks for: a transform, a preset, both (the transform's fields win), or neither (the original). */
export interface UrlSpec {
  readonly plan?: TransformPlan | null;
  readonly preset?: PresetEntity | null;
  /** Lifetime of a signed URL, seconds. */
  readonly expiresIn?: number | null;
  /**
   * The URL of a variant that exists, built as it is even where the space's policy no longer
   * serves it (instead of refused).
   */
  readonly existing?: boolean;
}

/** A built image: its URL, predicted size and format. */
export interface BuiltImage {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  /** The output format, or `auto` when negotiated per request. */
  readonly format: FormatChoice | 'original';
  /** The canonical plan (empty for the original). */
  readonly plan: TransformPlan;
}

export interface AssetUrlOptions {
  readonly baseUrl: string;
  readonly limits: GrammarLimits;
  readonly defaultExpiresIn: number;
  readonly maxExpiresIn: number;
  /** Width policy of spaces that do not set one. */
  readonly widthPolicy: WidthPolicy;
}

/**
 * Builds image URLs for GraphQL without touching the registry per URL: the space path comes from
 * request-scoped loaders, the signing key from a cache, sizes are predicted from the plan and the
 * asset's dimensions.
 */
export class AssetUrls {
  constructor(
    private readonly signing: SigningKeyService,
    private readonly options: AssetUrlOptions,
  ) {}

  /** The plan a stored canonical ops string stands for. */
  planOf(canonical: string): TransformPlan {
    const parsed = parseOps(canonical, this.options.limits);
    return parsed.kind === 'transform' ? parsed.plan : {};
  }

  /** An ad-hoc plan moved onto the space's width ladder where the space asks for it. */
  private onLadder(space: SpaceEntity, spec: UrlSpec): UrlSpec {
    if (!spec.plan || spec.preset) return spec;
    const rules = widthRules(space, this.options.widthPolicy);
    if (rules.policy === 'any') return spec;
    const plan = canonicalPlan(spec.plan);
    const snapped = snapToLadder(plan, rules.ladder);
    return snapped ? { ...spec, plan: snapped } : spec;
  }

  private lifetime(expiresIn: number | null | undefined): number {
    const seconds = expiresIn ?? this.options.defaultExpiresIn;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > this.options.maxExpiresIn) {
      throw badInput(
        `expiresIn must be between 1 and ${this.options.maxExpiresIn} seconds (got ${seconds}).`,
        { field: 'expiresIn' },
      );
    }
    return seconds;
  }

  /**
   * The canonical file (`ops.ext`) of a spec for an asset, with its plan and format.
   * @throws DomainError BAD_USER_INPUT when the plan is invalid.
   */
  file(
    asset: AssetEntity,
    spec: UrlSpec,
  ): { file: string; plan: TransformPlan; format: FormatChoice | 'original'; adHoc: boolean } {
    const source = sourceOf(asset);
    const natural = naturalFormat(source);
    if (spec.preset) {
      // Merge before canonicalising: a request's dpr or gravity needs the preset's sides.
      const requested: TransformPlan = Object.fromEntries(
        Object.entries(spec.plan ?? {}).filter(([, v]) => v !== undefined),
      );
      const base = canonicalPlan(presetPlan(spec.preset, this.options.limits));
      const onlyFormat = Object.keys(requested).every((k) => k === 'format');
      if (onlyFormat && (base.format === undefined || requested.format === undefined)) {
        const choice = base.format ?? requested.format ?? natural;
        const plan = canonicalPlan(mergePlans(base, { format: choice }));
        return {
          file: `preset_${spec.preset.slug}.${choice === 'auto' ? natural : choice}`,
          plan,
          format: choice,
          adHoc: false,
        };
      }
      return this.adHoc(mergePlans(base, requested), natural);
    }
    const requested = spec.plan ? canonicalPlan(spec.plan) : {};
    if (Object.keys(requested).length === 0)
      return { file: `original.${originalExtension(asset)}`, plan: {}, format: 'original', adHoc: false };
    return this.adHoc(requested, natural);
  }

  private adHoc(plan: TransformPlan, natural: ReturnType<typeof naturalFormat>) {
    const choice: FormatChoice = plan.format ?? natural;
    const full = canonicalPlan(mergePlans(plan, { format: choice }));
    return {
      file: `${printPlan(full)}.${choice === 'auto' ? natural : choice}`,
      plan: full,
      format: choice,
      adHoc: true,
    };
  }

  /**
   * A URL: public for public assets; signed and expiring for private ones (and for ad-hoc
   * transforms in `signed` spaces).
   * @throws DomainError FORBIDDEN for an ad-hoc transform in a space that serves only presets
   *   (its URL would be refused), BAD_USER_INPUT for a bad plan or `expiresIn`.
   */
  async url(asset: AssetEntity, space: SpaceEntity, path: SpacePath, given: UrlSpec): Promise<BuiltImage> {
    const spec = this.onLadder(space, given);
    const { file, plan, format, adHoc } = this.file(asset, spec);
    if (adHoc && space.transformPolicy === 'presets' && spec.existing !== true) {
      throw new DomainError(
        ErrorCode.Forbidden,
        'This space serves only presets and originals: ask for a preset.',
        { details: { field: 'transform' } },
      );
    }
    const address: ImageAddress = { ...path, assetId: toPublicId('Asset', asset.id), version: asset.version };
    const size = predictSize(plan, { width: asset.width, height: asset.height });
    const mustSign = asset.access === 'private' || (adHoc && space.transformPolicy === 'signed');
    if (!mustSign) return { url: publicImageUrl(this.options.baseUrl, address, file), ...size, format, plan };
    const lifetime = this.lifetime(spec.expiresIn);
    const key = await this.signing.active(asset.organizationId);
    const exp = expiryOf(Math.floor(Date.now() / 1000), lifetime);
    return {
      url: signedImageUrl(this.options.baseUrl, address, file, { kid: key.kid, secret: key.secret }, exp),
      ...size,
      format,
      plan,
    };
  }

  /**
   * One URL per width (the plan's height scaled to keep its shape), skipping widths above what
   * the image can give, for `srcset`. A space that serves only presets gets the one URL it serves.
   */
  async srcSet(
    asset: AssetEntity,
    space: SpaceEntity,
    path: SpacePath,
    spec: UrlSpec,
    widths: readonly number[] | null | undefined,
  ): Promise<{ entries: BuiltImage[]; base: BuiltImage }> {
    const base = await this.url(asset, space, path, spec);
    if (space.transformPolicy === 'presets') return { entries: [base], base };
    const rules = widthRules(space, this.options.widthPolicy);
    const asked = widths ?? rules.ladder;
    const onLadder =
      rules.policy === 'any'
        ? asked
        : asked.map((w) => rules.ladder.find((l) => l >= w) ?? rules.ladder[rules.ladder.length - 1]!);
    const list = [...new Set(onLadder)].sort((a, b) => a - b);
    for (const w of list) {
      if (!Number.isInteger(w) || w < 1 || w > this.options.limits.maxOutputDimension) {
        throw badInput(
          `Widths must be integers between 1 and ${this.options.limits.maxOutputDimension} (got ${w}).`,
          { field: 'widths' },
        );
      }
    }
    const basePlan = base.plan;
    const aspect = base.height / base.width;
    const box = basePlan.width !== undefined && basePlan.height !== undefined;
    // A box of the same shape may be offered wider than asked (for dense screens), up to the widest
    // the source fills without being enlarged (contain and pad: fits in); other plans up to their own width.
    const source = preResizeSize(basePlan, { width: asset.width, height: asset.height });
    const fits = basePlan.fit === 'contain' || basePlan.fit === 'pad';
    const widest =
      !box || basePlan.fit === 'inside' || basePlan.fit === 'outside'
        ? base.width
        : Math.max(
            base.width,
            (fits ? Math.max : Math.min)(source.width, Math.floor(source.height / aspect)),
          );
    const entries: BuiltImage[] = [];
    for (const width of list) {
      if (width > widest) continue;
      const plan: TransformPlan = box
        ? { ...basePlan, width, height: Math.max(1, Math.round(width * aspect)) }
        : { ...basePlan, width, height: undefined };
      entries.push(await this.url(asset, space, path, { plan, expiresIn: spec.expiresIn }));
    }
    if (entries.length === 0 || entries.at(-1)!.width < base.width) entries.push(base);
    return { entries, base };
  }
}
