import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { rowIdOf } from '../ids.js';
import { CreatePresetInput, UpdatePresetInput } from '../inputs/preset.input.js';
import { Preset } from '../types/delivery.type.js';
import { Space } from '../types/tenancy.type.js';
import { transformInputRecord } from '../types/transform.type.js';

const auditPreset = (ctx: GraphQLContext, action: string, preset: Preset) =>
  audit(ctx, {
    action,
    resourceType: 'Preset',
    resourceId: preset.id,
    tenantId: preset.entity.tenantId,
    spaceId: preset.entity.spaceId,
    details: { slug: preset.slug, canonical: preset.canonical },
  });

@Resolver(() => Preset)
export class PresetResolver {
  @Authorized('assets:read')
  @Query(() => [Preset], {
    description: "Presets a space serves: its own and the organization's it does not override.",
  })
  async presets(@Arg('spaceId', () => ID) spaceId: string, @Ctx() ctx: GraphQLContext): Promise<Preset[]> {
    return (await ctx.services.presets.list(principalOf(ctx), rowIdOf('Space', spaceId))).map(Preset.from);
  }

  @Authorized('assets:read')
  @Query(() => [Preset], { description: 'Organization-wide presets.' })
  async organizationPresets(@Ctx() ctx: GraphQLContext): Promise<Preset[]> {
    return (await ctx.services.presets.listOrganization(principalOf(ctx))).map(Preset.from);
  }

  @FieldResolver(() => Space, {
    nullable: true,
    description: 'The space, or null for an organization-wide preset.',
  })
  async space(@Root() preset: Preset, @Ctx() ctx: GraphQLContext): Promise<Space | null> {
    if (preset.entity.spaceId === null) return null;
    const row = await ctx.loaders.space.load(preset.entity.spaceId);
    return row && Space.from(row);
  }

  @Authorized('presets:write')
  @Mutation(() => Preset)
  async createPreset(@Arg('input') input: CreatePresetInput, @Ctx() ctx: GraphQLContext): Promise<Preset> {
    const preset = Preset.from(
      await ctx.services.presets.create(
        principalOf(ctx),
        input.spaceId ? rowIdOf('Space', input.spaceId) : null,
        {
          name: input.name,
          slug: input.slug,
          transform: transformInputRecord(input.transform),
          autoGenerate: input.autoGenerate ?? false,
          matchTags: input.matchTags ?? [],
          matchFolders: input.matchFolders ?? [],
        },
      ),
    );
    await auditPreset(ctx, 'preset.create', preset);
    return preset;
  }

  @Authorized('presets:write')
  @Mutation(() => Preset, {
    description: 'Changes a preset; a new transform gives it a new canonical string and new variants.',
  })
  async updatePreset(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdatePresetInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Preset> {
    const preset = Preset.from(
      await ctx.services.presets.update(principalOf(ctx), rowIdOf('Preset', id), {
        name: input.name ?? undefined,
        slug: input.slug ?? undefined,
        transform: input.transform ? transformInputRecord(input.transform) : undefined,
        autoGenerate: input.autoGenerate ?? undefined,
        matchTags: input.matchTags ?? undefined,
        matchFolders: input.matchFolders ?? undefined,
      }),
    );
    await auditPreset(ctx, 'preset.update', preset);
    return preset;
  }

  @Authorized('presets:write')
  @Mutation(() => Boolean)
  async deletePreset(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const preset = Preset.from(await ctx.services.presets.delete(principalOf(ctx), rowIdOf('Preset', id)));
    await auditPreset(ctx, 'preset.delete', preset);
    return true;
  }
}
