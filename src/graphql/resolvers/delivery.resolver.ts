import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { requireScope } from '../../auth/principal.js';
import type { AssetEntity, PresetEntity, SpaceEntity, VariantEntity } from '../../db/entities/index.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../errors/index.js';
import type { UrlSpec } from '../../media/asset-urls.js';
import { variantKey } from '../../media/variants.service.js';
import {
  negotiateFormat,
  naturalFormat,
  planFromInput,
  printPlan,
  type OutputFormat,
} from '../../transforms/index.js';
import {
  connectionType,
  decodeCursor,
  encodeCursor,
  pageSize,
  toConnection,
  type Connection,
} from '../connection.js';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { rowIdOf } from '../ids.js';
import { Asset } from '../types/asset.type.js';
import { Image, ResponsiveImage, Variant } from '../types/delivery.type.js';
import { TransformInput, transformInputRecord } from '../types/transform.type.js';
import { sourceOf } from '../../media/asset-source.js';

export const VariantConnection = connectionType(Variant, 'Variant');

/** The URL request of GraphQL arguments. */
async function specOf(
  ctx: GraphQLContext,
  asset: AssetEntity,
  transform: TransformInput | undefined | null,
  preset: string | undefined | null,
  expiresIn?: number | null,
): Promise<{
  spec: UrlSpec;
  place: NonNullable<Awaited<ReturnType<GraphQLContext['loaders']['spacePath']>>>;
}> {
  const place = await ctx.loaders.spacePath(asset.spaceId);
  if (!place) throw notFound('Space');
  const plan = transform ? planFromInput(transformInputRecord(transform), ctx.limits.transforms) : null;
  let presetRow = null;
  if (preset !== undefined && preset !== null) {
    presetRow = (await spacePresets(ctx, place.space)).find((p) => p.slug === preset) ?? null;
    if (!presetRow) throw badInput(`Unknown preset "${preset}".`, { field: 'preset' });
  }
  return { spec: { plan, preset: presetRow, expiresIn }, place };
}

const sizesOf = (width: number): string => `(max-width: ${width}px) 100vw, ${width}px`;

/** The presets of each space, read once per request (a list of variants asks for each of its rows). */
const presetsOfRequest = new WeakMap<GraphQLContext, Map<string, Promise<PresetEntity[]>>>();

function spacePresets(ctx: GraphQLContext, space: SpaceEntity): Promise<PresetEntity[]> {
  let bySpace = presetsOfRequest.get(ctx);
  if (!bySpace) presetsOfRequest.set(ctx, (bySpace = new Map()));
  let presets = bySpace.get(space.id);
  if (!presets) bySpace.set(space.id, (presets = ctx.services.presets.forSpace(space)));
  return presets;
}

/**
 * The preset URL of a variant, when one of the space's presets (the one it was made for first)
 * renders exactly this canonical transform and format today; `undefined` otherwise.
 */
function presetSpecOf(
  ctx: GraphQLContext,
  asset: AssetEntity,
  row: VariantEntity,
  presets: readonly PresetEntity[],
): UrlSpec | undefined {
  const ordered = [
    ...presets.filter((p) => p.id === row.presetId),
    ...presets.filter((p) => p.id !== row.presetId),
  ];
  for (const preset of ordered) {
    for (const spec of [{ preset }, { preset, plan: { format: row.format } }] satisfies UrlSpec[]) {
      const built = ctx.services.urls.file(asset, spec);
      if (!built.adHoc && printPlan(built.plan) === row.canonical) return spec;
    }
  }
  return undefined;
}

@Resolver(() => Asset)
export class AssetDeliveryResolver {
  @FieldResolver(() => String, {
    description:
      'URL of the image, the transform or the preset: public and CDN-cacheable, or signed and expiring for private assets.',
  })
  async url(
    @Root() asset: Asset,
    @Ctx() ctx: GraphQLContext,
    @Arg('transform', () => TransformInput, { nullable: true }) transform?: TransformInput,
    @Arg('preset', () => String, { nullable: true }) preset?: string,
    @Arg('expiresIn', () => Int, { nullable: true, description: 'Seconds a signed URL stays valid.' })
    expiresIn?: number,
  ): Promise<string> {
    const { spec, place } = await specOf(ctx, asset.entity, transform, preset, expiresIn);
    return (await ctx.services.urls.url(asset.entity, place.space, place.path, spec)).url;
  }

  @FieldResolver(() => Image, {
    description: 'URL, predicted size, srcset and placeholder of the image, in one.',
  })
  async image(
    @Root() asset: Asset,
    @Ctx() ctx: GraphQLContext,
    @Arg('transform', () => TransformInput, { nullable: true }) transform?: TransformInput,
    @Arg('preset', () => String, { nullable: true }) preset?: string,
    @Arg('widths', () => [Int], {
      nullable: true,
      description: 'srcset widths; default: the width ladder up to the image width.',
    })
    widths?: number[],
    @Arg('expiresIn', () => Int, { nullable: true }) expiresIn?: number,
  ): Promise<Image> {
    const { spec, place } = await specOf(ctx, asset.entity, transform, preset, expiresIn);
    const { entries, base } = await ctx.services.urls.srcSet(
      asset.entity,
      place.space,
      place.path,
      spec,
      widths,
    );
    return Object.assign(new Image(), {
      url: base.url,
      width: base.width,
      height: base.height,
      format: base.format,
      srcSet: entries.map((e) => `${e.url} ${e.width}w`).join(', '),
      sizes: sizesOf(base.width),
      placeholder: asset.placeholder,
    });
  }

  @FieldResolver(() => ResponsiveImage, {
    description: 'src, srcset (and a WebP srcset), sizes and placeholder for a responsive <img>.',
  })
  async srcSet(
    @Root() asset: Asset,
    @Ctx() ctx: GraphQLContext,
    @Arg('widths', () => [Int], { nullable: true }) widths?: number[],
    @Arg('transform', () => TransformInput, { nullable: true }) transform?: TransformInput,
    @Arg('preset', () => String, { nullable: true }) preset?: string,
  ): Promise<ResponsiveImage> {
    const { spec, place } = await specOf(ctx, asset.entity, transform, preset);
    const { entries, base } = await ctx.services.urls.srcSet(
      asset.entity,
      place.space,
      place.path,
      spec,
      widths,
    );
    let webpSrcSet: string | null = null;
    const adHocServed = place.space.transformPolicy !== 'presets';
    if (
      adHocServed &&
      base.format !== 'webp' &&
      base.format !== 'auto' &&
      !(asset.animated && base.format === 'gif')
    ) {
      const webp = await ctx.services.urls.srcSet(
        asset.entity,
        place.space,
        place.path,
        { ...spec, plan: { ...base.plan, format: 'webp' }, preset: null },
        widths,
      );
      webpSrcSet = webp.entries.map((e) => `${e.url} ${e.width}w`).join(', ');
    }
    return Object.assign(new ResponsiveImage(), {
      src: entries.at(-1)!.url,
      srcSet: entries.map((e) => `${e.url} ${e.width}w`).join(', '),
      webpSrcSet,
      sizes: sizesOf(base.width),
      width: base.width,
      height: base.height,
      aspectRatio: Math.round((base.width / base.height) * 10_000) / 10_000,
      placeholder: asset.placeholder,
    });
  }

  @FieldResolver(() => VariantConnection, {
    description: 'Rendered variants of the current version, oldest first.',
  })
  async variants(
    @Root() asset: Asset,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Connection<Variant>> {
    const limit = pageSize(first, ctx.limits.maxPageSize);
    const row = asset.entity;
    let rows;
    if (after === undefined || after === null) {
      rows = await ctx.loaders.firstVariants.load(`${row.id}:${row.version}:${limit + 1}`);
    } else {
      const [at, id] = decodeCursor(after, 2);
      rows =
        (
          await ctx.services.variantQueries.forAssets([row], limit + 1, {
            createdAt: new Date(String(at)),
            id: String(id),
          })
        ).get(row.id) ?? [];
    }
    return toConnection(
      rows,
      limit,
      (v) => encodeCursor([v.createdAt.toISOString(), v.id]),
      Variant.from,
      after !== undefined && after !== null,
    );
  }

  @Authorized('assets:write')
  @Mutation(() => Variant, {
    description:
      'Renders a transform or preset of an asset now (or finds it rendered) and returns the variant.',
  })
  async transformAsset(
    @Arg('assetId', () => ID) assetId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('transform', () => TransformInput, { nullable: true }) transform?: TransformInput,
    @Arg('preset', () => String, { nullable: true }) preset?: string,
  ): Promise<Variant> {
    const principal = principalOf(ctx);
    requireScope(principal, 'assets:write');
    const entity = await ctx.services.assets.get(principal, rowIdOf('Asset', assetId));
    const { spec, place } = await specOf(ctx, entity, transform, preset);
    if (!spec.plan && !spec.preset) throw badInput('Give a transform or a preset.', { field: 'transform' });
    const built = ctx.services.urls.file(entity, spec);
    const source = sourceOf(entity);
    const format: OutputFormat =
      built.format === 'original'
        ? naturalFormat(source)
        : built.format === 'auto'
          ? negotiateFormat(undefined, source)
          : built.format;
    const plan = { ...built.plan, format };
    const delivered = await ctx.services.variants.deliver({
      asset: entity,
      plan,
      format,
      presetId: spec.preset?.id ?? null,
    });
    await delivered.stored;
    // Rendered by another node a moment ago, its row may still be on its way.
    const key = variantKey(entity, printPlan(plan), format);
    let row = await ctx.services.variantQueries.byKey(key);
    for (let wait = 0; !row && wait < 50; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = await ctx.services.variantQueries.byKey(key);
    }
    if (!row) throw new DomainError(ErrorCode.Internal, 'The variant was rendered but not recorded.');
    const variant = Variant.from(row);
    await audit(ctx, {
      action: 'variant.render',
      resourceType: 'Variant',
      resourceId: variant.id,
      tenantId: entity.tenantId,
      spaceId: place.space.id,
      details: { assetId, canonical: row.canonical, layer: delivered.layer },
    });
    return variant;
  }
}

@Resolver(() => Variant)
export class VariantResolver {
  @FieldResolver(() => Asset)
  async asset(@Root() variant: Variant, @Ctx() ctx: GraphQLContext): Promise<Asset> {
    const row = await ctx.loaders.asset.load(variant.entity.assetId);
    if (!row) throw notFound('Asset');
    return Asset.from(row);
  }

  @FieldResolver(() => String, {
    description:
      "URL of this variant (signed for private assets): the preset's URL while a preset of the space stands for it, so presets-only spaces serve it.",
  })
  async url(
    @Root() variant: Variant,
    @Ctx() ctx: GraphQLContext,
    @Arg('expiresIn', () => Int, { nullable: true }) expiresIn?: number,
  ): Promise<string> {
    const asset = await ctx.loaders.asset.load(variant.entity.assetId);
    if (!asset) throw notFound('Asset');
    const place = await ctx.loaders.spacePath(asset.spaceId);
    if (!place) throw notFound('Space');
    const preset = presetSpecOf(ctx, asset, variant.entity, await spacePresets(ctx, place.space));
    const spec: UrlSpec = preset ?? {
      plan: ctx.services.urls.planOf(variant.entity.canonical),
      existing: true,
    };
    return (await ctx.services.urls.url(asset, place.space, place.path, { ...spec, expiresIn })).url;
  }
}
