import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { AssetEntity, type SpaceEntity } from '../db/entities/index.js';
import { DomainError, ErrorCode, notFound } from '../errors/index.js';
import { fromPublicId } from '../ids/index.js';
import type { SigningKeyService } from '../signing/signing-keys.service.js';
import { imagePath, signedImageUrl, type ImageAddress } from '../signing/image-urls.js';
import { verifyPathSignature } from '../signing/url-signature.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import {
  canonicalPlan,
  formatFromExtension,
  mergePlans,
  naturalFormat,
  negotiateFormat,
  parseOps,
  printPlan,
  snapToLadder,
  type GrammarLimits,
  type WidthPolicy,
  type OutputFormat,
  type TransformPlan,
} from '../transforms/index.js';
import { presetPlan, type PresetsService } from './presets.service.js';
import type { Generations } from './generations.js';
import type { QuotaService } from './quota.service.js';
import type { LocalHit, RateLimiter } from './rate-limits.js';
import { widthRules } from './widths.js';
import type { DeliveredVariant, VariantAddress, VariantsService } from './variants.service.js';
import { sourceOf } from './asset-source.js';

/** An image URL as the HTTP edge received it. */
export interface ImageRequest {
  readonly access: string;
  readonly org: string;
  readonly tenant: string;
  readonly space: string;
  readonly assetId: string;
  readonly version: string;
  readonly file: string;
  /** The URL path exactly as requested (the signature covers it). */
  readonly path: string;
  readonly exp?: string;
  readonly kid?: string;
  readonly sig?: string;
  readonly accept?: string;
  /** The client's address, for the per-client render limit. */
  readonly clientIp?: string;
}

/** How `fmt_auto` answers an AVIF browser before the AVIF variant exists. */
export interface AvifStandIn {
  /** Answer with WebP/JPEG at once and render AVIF in the background (false: render AVIF now). */
  readonly standIn: boolean;
  /** `max-age` of a stand-in answer, seconds. */
  readonly standInMaxAge: number;
  /** Queues the background AVIF render (idempotent per variant). */
  enqueue(job: {
    assetId: string;
    version: number;
    plan: TransformPlan;
    presetId: string | null;
  }): Promise<void>;
}

/** The space an answer is counted against. */
export interface MeteredSpace {
  readonly id: string;
  readonly organizationId: string;
}

export type ImageAnswer =
  | { readonly kind: 'redirect'; readonly location: string; readonly cacheControl: string }
  | {
      readonly kind: 'original';
      readonly space: MeteredSpace;
      readonly body: () => Promise<Readable>;
      readonly bytes: number;
      readonly contentType: string;
      readonly etag: string;
      readonly cacheControl: string;
    }
  | {
      readonly kind: 'variant';
      readonly space: MeteredSpace;
      readonly variant: DeliveredVariant;
      readonly cacheControl: string;
      readonly vary: boolean;
    };

/** The rows of an image URL, kept for hot requests, with what file names resolved to for them. */
interface RowEntry {
  /** Its key among the cached rows. */
  readonly key: string;
  readonly space: SpaceEntity;
  readonly asset: AssetEntity;
  readonly generation: string;
  readonly until: number;
  readonly targets: Map<string, VariantTarget>;
}

/** A variant a file name asks for: its canonical plan, before format negotiation. */
interface VariantTarget {
  readonly kind: 'variant';
  readonly full: TransformPlan;
  readonly choice: OutputFormat | 'auto';
  readonly presetId: string | null;
  readonly preset: boolean;
  readonly ops: string;
  /** The variant's address per concrete output format, as they are asked for. */
  readonly keys: Partial<Record<OutputFormat, VariantAddress>>;
}

type Redirect = Extract<ImageAnswer, { kind: 'redirect' }>;

/** A variant answered from memory, with the limits it counts against besides the client's own. */
export type MemoryAnswer = Extract<ImageAnswer, { kind: 'variant' }> & {
  readonly limits: readonly LocalHit[];
};

/** A public image URL answered before, and what it resolved to: checked again on every use. */
interface KnownUrl {
  readonly organization: string;
  readonly row: RowEntry;
  readonly target: VariantTarget;
}
type Target = VariantTarget | { readonly kind: 'original' } | Redirect;

/** File names remembered per cached row (an asset's URLs in use: its presets and srcSet widths). */
const TARGETS_PER_ROW = 256;

/** Rows kept for hot image requests: at most this many, this long (a safety net; changes invalidate at once). */
const ROW_CACHE_ENTRIES = 20_000;
const ROW_CACHE_MS = 60_000;
/** Public URLs remembered for answers from memory. */
const KNOWN_URLS = 50_000;

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REDIRECT_SECONDS = 86_400;
const REDIRECT_CACHE = `public, max-age=${REDIRECT_SECONDS}`;

/** The URL extension of an original as stored. */
export const originalExtension = (asset: Pick<AssetEntity, 'format'>): string =>
  asset.format === 'jpeg' ? 'jpg' : asset.format;

/** The space's own limit of image requests per client, when it sets one. */
function spaceImageLimit(space: SpaceEntity, clientIp: string | undefined): LocalHit | undefined {
  const limit = space.settings.rateLimits?.imagesPerMinute;
  if (limit === undefined || limit <= 0) return undefined;
  return { cls: 'image', identity: `${space.id}:${clientIp ?? 'unknown'}:space`, limit };
}

/**
 * The image endpoint's decisions, from parsed URL parts to an answer: the space by its slugs, the
 * asset and its current version, public access or a valid signature, the space's transform
 * policy, the canonical form (anything else is redirected to it), format negotiation, and the
 * variant through the cache layers.
 */
export class DeliveryService {
  constructor(
    private readonly db: DataSource,
    private readonly tenancy: TenancyService,
    private readonly presets: PresetsService,
    private readonly variants: VariantsService,
    private readonly signing: SigningKeyService,
    private readonly store: ObjectStore,
    private readonly limiter: RateLimiter,
    private readonly avif: AvifStandIn,
    private readonly quota: QuotaService,
    private readonly generations: Generations,
    private readonly options: { baseUrl: string; limits: GrammarLimits; widthPolicy: WidthPolicy },
  ) {}

  private readonly rows = new Map<string, RowEntry>();
  private readonly urls = new Map<string, KnownUrl>();

  /**
   * The space and the asset of a URL. Found rows are kept briefly with the organization's change
   * generation read before them; any change in the organization bumps it, so a deleted, replaced
   * or newly private asset and a space's new policy take effect at once on every node, while hot
   * images are answered without a query.
   */
  private async spaceAndAsset(request: ImageRequest, assetRowId: string): Promise<RowEntry | undefined> {
    const key = `${request.org}/${request.tenant}/${request.space}/${assetRowId}`;
    const generation = await this.generations.current(request.org);
    const hit = this.rows.get(key);
    if (hit && hit.generation === generation && hit.until > Date.now()) return hit;
    const [space, asset] = await Promise.all([
      this.tenancy.spaceByPath(request.org, request.tenant, request.space),
      this.db.getRepository(AssetEntity).findOneBy({ id: assetRowId }),
    ]);
    if (!space || !asset) {
      this.rows.delete(key);
      return undefined;
    }
    const entry: RowEntry = {
      key,
      space,
      asset,
      generation,
      until: Date.now() + ROW_CACHE_MS,
      targets: new Map(),
    };
    if (this.rows.size >= ROW_CACHE_ENTRIES) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(key, entry);
    return entry;
  }

  /**
   * @throws DomainError NOT_FOUND (unknown space, asset or version), UNAUTHENTICATED (private
   *   without a signature, or expired), FORBIDDEN (bad signature; policy), BAD_USER_INPUT (ops,
   *   extension, unknown preset), and the render's errors.
   */
  async answer(request: ImageRequest): Promise<ImageAnswer> {
    if (request.access !== 'pub' && request.access !== 'priv') throw notFound('Image');
    const version = /^v([1-9]\d{0,8})$/.exec(request.version);
    const rowId = fromPublicId('Asset', request.assetId);
    if (!version || rowId === undefined) throw notFound('Image');
    const row = await this.spaceAndAsset(request, rowId);
    if (!row || row.asset.spaceId !== row.space.id || row.asset.deletedAt !== null) throw notFound('Image');
    const { space, asset } = row;
    const spaceLimit = spaceImageLimit(space, request.clientIp);
    if (spaceLimit) await this.limiter.enforce(spaceLimit.cls, spaceLimit.identity, spaceLimit.limit);
    if (asset.version !== Number(version[1])) {
      throw new DomainError(
        ErrorCode.NotFound,
        `Version ${version[1]} of this image is not current (the current version is ${asset.version}).`,
      );
    }

    const signed = this.verifySignature(request, space.organizationId);
    const exp = signed === undefined ? undefined : await signed;
    if (request.access === 'priv' && exp === undefined)
      throw new DomainError(ErrorCode.Unauthenticated, 'This URL needs exp, kid and sig.');
    if (request.access === 'pub' && asset.access === 'private') {
      throw new DomainError(
        ErrorCode.Unauthenticated,
        'This image is private: ask the API for a signed URL.',
      );
    }
    const cacheControl =
      exp === undefined ? IMMUTABLE : `private, max-age=${Math.max(0, exp - Math.floor(Date.now() / 1000))}`;

    const known = row.targets.get(request.file);
    const target = known ?? (await this.resolveTarget(request, row, exp));
    if (target.kind === 'redirect') return target;
    if (target.kind === 'original') {
      await this.quota.checkServe(space, asset.bytes);
      return {
        kind: 'original',
        space,
        body: () => this.store.read(asset.storageKey),
        bytes: asset.bytes,
        contentType: asset.mimeType,
        etag: asset.sha256,
        cacheControl,
      };
    }
    // A remembered target passed the policy for the request that resolved it; this one may be unsigned.
    if (known) this.checkPolicy(space, target, exp);
    else {
      if (row.targets.size >= TARGETS_PER_ROW) row.targets.clear();
      row.targets.set(request.file, target);
    }
    const { full, choice, presetId } = target;
    const source = sourceOf(asset);

    let format: OutputFormat = choice === 'auto' ? negotiateFormat(request.accept, source) : choice;
    let answerCache = cacheControl;
    if (choice === 'auto' && format === 'avif' && this.avif.standIn) {
      // AVIF costs tens of times a WebP render: answer at once with a short-lived stand-in and
      // make the AVIF in the background; once it exists, this same URL answers AVIF for good.
      target.keys.avif ??= this.variants.address(asset, { ...full, format: 'avif' }, 'avif');
      const avif = await this.variants.peek(target.keys.avif.key);
      if (avif) return { kind: 'variant', space, variant: avif, cacheControl, vary: true };
      await this.avif.enqueue({
        assetId: asset.id,
        version: asset.version,
        plan: { ...full, format: 'avif' },
        presetId,
      });
      format = negotiateFormat(request.accept, source, { avif: false });
      answerCache =
        exp === undefined
          ? `public, max-age=${this.avif.standInMaxAge}`
          : `private, max-age=${this.avif.standInMaxAge}`;
    }
    const variant = await this.variants.deliver({
      asset,
      plan: { ...full, format },
      format,
      presetId,
      space,
      known: (target.keys[format] ??= this.variants.address(asset, { ...full, format }, format)),
      admit: async () => {
        const client = `${space.id}:${request.clientIp ?? 'unknown'}`;
        await this.limiter.enforce('render', client);
        // A space may lower its own limit, never lift the server's.
        const own = space.settings.rateLimits?.rendersPerMinute;
        if (own !== undefined && own > 0) await this.limiter.enforce('render', `${client}:space`, own);
      },
    });
    await this.quota.checkServe(space, variant.data.length);
    if (request.access === 'pub' && exp === undefined && answerCache === IMMUTABLE) {
      if (this.urls.size >= KNOWN_URLS) this.urls.delete(this.urls.keys().next().value!);
      this.urls.set(request.path, { organization: request.org, row, target });
    }
    return { kind: 'variant', space, variant, cacheControl: answerCache, vary: choice === 'auto' };
  }

  /**
   * The answer to a public URL answered before, synchronously, when everything it needs is in
   * this process and current: the cached rows of the same change generation, the variant's bytes
   * in memory, no quota of bytes served. `answer` would give the same; undefined when it must
   * decide. Counts nothing: the caller counts the request against the client's image limit and
   * `limits`, and records it.
   * @param path the URL path, without a query.
   */
  answerFromMemory(path: string, accept: string | undefined, clientIp: string): MemoryAnswer | undefined {
    const known = this.urls.get(path);
    if (!known) return undefined;
    const { row, target } = known;
    if (
      this.rows.get(row.key) !== row ||
      row.until <= Date.now() ||
      this.generations.peek(known.organization) !== row.generation
    ) {
      this.urls.delete(path);
      return undefined;
    }
    const format = target.choice === 'auto' ? negotiateFormat(accept, sourceOf(row.asset)) : target.choice;
    // AVIF is answered only once it exists: before, `answer` sends a stand-in (or renders it).
    const address = target.keys[format];
    const variant = address && this.variants.inMemory(address.key);
    if (!variant || !this.quota.servesUnmetered(row.space)) return undefined;
    const spaceLimit = spaceImageLimit(row.space, clientIp);
    return {
      kind: 'variant',
      space: row.space,
      variant,
      cacheControl: IMMUTABLE,
      vary: target.choice === 'auto',
      limits: spaceLimit ? [spaceLimit] : [],
    };
  }

  /** The space's transform policy, for a transform (presets and originals are always served). */
  private checkPolicy(
    space: SpaceEntity,
    target: Pick<VariantTarget, 'preset' | 'ops'>,
    exp: number | undefined,
  ): void {
    if (target.preset) return;
    if (space.transformPolicy === 'presets') {
      throw new DomainError(ErrorCode.Forbidden, 'This space serves only presets and originals.', {
        details: { token: target.ops },
      });
    }
    if (space.transformPolicy === 'signed' && exp === undefined) {
      throw new DomainError(
        ErrorCode.Forbidden,
        'This space serves ad-hoc transforms only from signed URLs.',
        {
          details: { token: target.ops },
        },
      );
    }
  }

  /**
   * What a file name asks for: the original, a redirect to the canonical file, or a variant's
   * canonical plan (kept with the cached rows: the same file of the same asset version and space
   * settings always resolves alike).
   */
  private async resolveTarget(
    request: ImageRequest,
    row: RowEntry,
    exp: number | undefined,
  ): Promise<Target> {
    const { space, asset } = row;
    const dot = request.file.lastIndexOf('.');
    if (dot <= 0)
      throw new DomainError(
        ErrorCode.BadUserInput,
        'The image URL needs an extension (.jpg, .png, .webp, .avif, .gif).',
        { details: { token: request.file } },
      );
    const ops = request.file.slice(0, dot);
    const ext = request.file.slice(dot + 1);
    const parsed = parseOps(ops, this.options.limits);
    const address: ImageAddress = {
      org: request.org,
      tenant: request.tenant,
      space: request.space,
      assetId: request.assetId,
      version: asset.version,
    };

    if (parsed.kind === 'original') {
      const canonicalExt = originalExtension(asset);
      if (ext !== canonicalExt)
        return this.redirect(address, request, `original.${canonicalExt}`, exp, space.organizationId);
      return { kind: 'original' };
    }

    const extFormat = formatFromExtension(ext);
    if (extFormat === undefined) {
      throw new DomainError(
        ErrorCode.BadUserInput,
        `Unknown extension ".${ext}": use jpg, png, webp, avif or gif.`,
        { details: { token: `.${ext}` } },
      );
    }
    const source = sourceOf(asset);

    let plan: TransformPlan;
    let presetId: string | null = null;
    let canonicalOps: string;
    if (parsed.kind === 'preset') {
      const preset = await this.presets.resolve(space, parsed.slug);
      if (!preset)
        throw new DomainError(ErrorCode.BadUserInput, `Unknown preset "${parsed.slug}".`, {
          details: { token: ops },
        });
      presetId = preset.id;
      plan = canonicalPlan(presetPlan(preset, this.options.limits));
      canonicalOps = ops;
    } else {
      this.checkPolicy(space, { preset: false, ops }, exp);
      plan = canonicalPlan(parsed.plan);
      canonicalOps = '';
      const rules = widthRules(space, this.options.widthPolicy);
      const snapped = rules.policy === 'any' ? undefined : snapToLadder(plan, rules.ladder);
      if (snapped) {
        if (rules.policy === 'refuse') {
          throw new DomainError(
            ErrorCode.BadUserInput,
            `w_${plan.width} is not a width this space serves (${rules.ladder.join(', ')}).`,
            {
              details: { token: `w_${plan.width}`, widths: rules.ladder },
            },
          );
        }
        plan = canonicalPlan(snapped);
      }
    }

    // The format: the plan's, else the extension's; `auto` keeps the natural format as extension.
    const natural = naturalFormat(source);
    const choice = plan.format ?? extFormat;
    const canonicalExt = choice === 'auto' ? natural : choice;
    const full = canonicalPlan(mergePlans(plan, { format: choice }));
    if (parsed.kind === 'transform') canonicalOps = printPlan(full);
    const canonicalFile = `${canonicalOps}.${canonicalExt}`;
    if (canonicalFile !== request.file)
      return this.redirect(address, request, canonicalFile, exp, space.organizationId);
    return { kind: 'variant', full, choice, presetId, preset: parsed.kind === 'preset', ops, keys: {} };
  }

  /** Checks `exp`, `kid`, `sig` when present; resolves to `exp`, or undefined when absent. */
  private verifySignature(request: ImageRequest, organizationId: string): Promise<number> | undefined {
    const { exp, kid, sig } = request;
    if (exp === undefined && kid === undefined && sig === undefined) return undefined;
    return (async () => {
      if (exp === undefined || kid === undefined || sig === undefined || !/^\d{1,12}$/.test(exp)) {
        throw new DomainError(ErrorCode.Unauthenticated, 'A signed URL needs exp, kid and sig.');
      }
      const key = await this.signing.forVerification(kid);
      // Verify first, so an expired URL is told apart from a forged one only when it is genuine.
      if (
        !key ||
        key.organizationId !== organizationId ||
        !verifyPathSignature(key.secret, request.path, Number(exp), sig)
      ) {
        throw new DomainError(ErrorCode.Forbidden, 'The URL signature is not valid.');
      }
      if (Number(exp) < Math.floor(Date.now() / 1000))
        throw new DomainError(ErrorCode.Unauthenticated, 'This signed URL has expired.');
      return Number(exp);
    })();
  }

  /** 301 to the canonical file; a signed URL's redirect is signed again and cached privately until `exp`. */
  private async redirect(
    address: ImageAddress,
    request: ImageRequest,
    file: string,
    exp: number | undefined,
    organizationId: string,
  ): Promise<Redirect> {
    const cacheControl =
      exp === undefined
        ? REDIRECT_CACHE
        : `private, max-age=${Math.min(REDIRECT_SECONDS, Math.max(0, exp - Math.floor(Date.now() / 1000)))}`;
    if (request.access === 'priv' && exp !== undefined) {
      const key = await this.signing.active(organizationId);
      return {
        kind: 'redirect',
        location: signedImageUrl(
          this.options.baseUrl,
          address,
          file,
          { kid: key.kid, secret: key.secret },
          exp,
        ),
        cacheControl,
      };
    }
    const path = imagePath(address, request.access === 'priv' ? 'priv' : 'pub', file);
    const query = exp === undefined ? '' : `?exp=${request.exp}&kid=${request.kid}&sig=${request.sig}`;
    return { kind: 'redirect', location: `${this.options.baseUrl}${path}${query}`, cacheControl };
  }
}
