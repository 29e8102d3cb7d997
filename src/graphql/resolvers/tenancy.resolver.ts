import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { notFound } from '../../errors/index.js';
import { checkLadder } from '../../media/widths.js';
import { WidthPolicyEnum } from '../types/enums.js';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { rowIdOf } from '../ids.js';
import {
  CreateSpaceInput,
  CreateTenantInput,
  UpdateOrganizationInput,
  UpdateSpaceInput,
  UpdateTenantInput,
} from '../inputs/tenancy.input.js';
import { Organization, Space, Tenant } from '../types/tenancy.type.js';

@Resolver(() => Space)
export class SpaceResolver {
  @Authorized()
  @Query(() => [Space], { description: 'Spaces the caller can see.' })
  async spaces(@Ctx() ctx: GraphQLContext): Promise<Space[]> {
    return (await ctx.services.tenancy.spaces(principalOf(ctx))).map(Space.from);
  }

  @Authorized()
  @Query(() => Space, { description: 'One space. An id the caller cannot see answers NOT_FOUND.' })
  async space(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Space> {
    return Space.from(await ctx.services.tenancy.space(principalOf(ctx), rowIdOf('Space', id)));
  }

  @FieldResolver(() => WidthPolicyEnum, {
    description: "What a URL with another width gets (the server's WIDTH_POLICY unless the space sets one).",
  })
  widthPolicy(@Root() space: Space, @Ctx() ctx: GraphQLContext): WidthPolicyEnum {
    return (space.entity.settings.widthPolicy ?? ctx.limits.widthPolicy) as WidthPolicyEnum;
  }

  @FieldResolver(() => Tenant)
  async tenant(@Root() space: Space, @Ctx() ctx: GraphQLContext): Promise<Tenant> {
    const row = await ctx.loaders.tenant.load(space.tenantRowId);
    if (!row) throw notFound('Tenant');
    return Tenant.from(row);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() space: Space, @Ctx() ctx: GraphQLContext): Promise<Organization> {
    const row = await ctx.loaders.organization.load(space.organizationRowId);
    if (!row) throw notFound('Organization');
    return Organization.from(row);
  }

  @Authorized('admin')
  @Mutation(() => Space)
  async createSpace(@Arg('input') input: CreateSpaceInput, @Ctx() ctx: GraphQLContext): Promise<Space> {
    const space = await ctx.services.tenancy.createSpace(principalOf(ctx), {
      ...input,
      tenantId: rowIdOf('Tenant', input.tenantId),
    });
    await audit(ctx, {
      action: 'space.create',
      resourceType: 'Space',
      resourceId: Space.from(space).id,
      tenantId: space.tenantId,
      spaceId: space.id,
      details: { slug: space.slug },
    });
    return Space.from(space);
  }

  @Authorized('admin')
  @Mutation(() => Space)
  async updateSpace(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateSpaceInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Space> {
    const space = await ctx.services.tenancy.updateSpace(principalOf(ctx), rowIdOf('Space', id), {
      ...input,
      widths: input.widths ? checkLadder(input.widths, ctx.limits.transforms.maxOutputDimension) : undefined,
    });
    await audit(ctx, {
      action: 'space.update',
      resourceType: 'Space',
      resourceId: id,
      tenantId: space.tenantId,
      spaceId: space.id,
      details: { ...input },
    });
    return Space.from(space);
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Deletes an empty space (CONFLICT while it has assets).' })
  async deleteSpace(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const rowId = rowIdOf('Space', id);
    const space = await ctx.services.tenancy.space(principalOf(ctx), rowId);
    await ctx.services.tenancy.deleteSpace(principalOf(ctx), rowId);
    await audit(ctx, {
      action: 'space.delete',
      resourceType: 'Space',
      resourceId: id,
      tenantId: space.tenantId,
      spaceId: null,
    });
    return true;
  }
}

@Resolver(() => Tenant)
export class TenantResolver {
  @Authorized()
  @Query(() => [Tenant], { description: 'Tenants the caller can see.' })
  async tenants(@Ctx() ctx: GraphQLContext): Promise<Tenant[]> {
    return (await ctx.services.tenancy.tenants(principalOf(ctx))).map(Tenant.from);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() tenant: Tenant, @Ctx() ctx: GraphQLContext): Promise<Organization> {
    const row = await ctx.loaders.organization.load(tenant.organizationRowId);
    if (!row) throw notFound('Organization');
    return Organization.from(row);
  }

  @FieldResolver(() => [Space], { description: 'Spaces of this tenant the caller can see.' })
  async spaces(@Root() tenant: Tenant, @Ctx() ctx: GraphQLContext): Promise<Space[]> {
    const all = await ctx.services.tenancy.spaces(principalOf(ctx));
    return all.filter((s) => s.tenantId === tenant.rowId).map(Space.from);
  }

  @Authorized('admin')
  @Mutation(() => Tenant)
  async createTenant(@Arg('input') input: CreateTenantInput, @Ctx() ctx: GraphQLContext): Promise<Tenant> {
    const tenant = await ctx.services.tenancy.createTenant(principalOf(ctx), input);
    await audit(ctx, {
      action: 'tenant.create',
      resourceType: 'Tenant',
      resourceId: Tenant.from(tenant).id,
      tenantId: tenant.id,
      details: { slug: tenant.slug },
    });
    return Tenant.from(tenant);
  }

  @Authorized('admin')
  @Mutation(() => Tenant)
  async updateTenant(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateTenantInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Tenant> {
    const tenant = await ctx.services.tenancy.updateTenant(principalOf(ctx), rowIdOf('Tenant', id), input);
    await audit(ctx, {
      action: 'tenant.update',
      resourceType: 'Tenant',
      resourceId: id,
      tenantId: tenant.id,
      details: { ...input },
    });
    return Tenant.from(tenant);
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Deletes a tenant without spaces (CONFLICT otherwise).' })
  async deleteTenant(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.tenancy.deleteTenant(principalOf(ctx), rowIdOf('Tenant', id));
    await audit(ctx, { action: 'tenant.delete', resourceType: 'Tenant', resourceId: id, tenantId: null });
    return true;
  }
}

@Resolver(() => Organization)
export class OrganizationResolver {
  @FieldResolver(() => [Tenant], { description: 'Tenants the caller can see.' })
  async tenants(@Ctx() ctx: GraphQLContext): Promise<Tenant[]> {
    return (await ctx.services.tenancy.tenants(principalOf(ctx))).map(Tenant.from);
  }

  @Authorized('admin')
  @Mutation(() => Organization, {
    description: "Changes the caller's organization (organization-wide admin keys only).",
  })
  async updateOrganization(
    @Arg('input') input: UpdateOrganizationInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Organization> {
    const org = await ctx.services.tenancy.updateOrganization(principalOf(ctx), input);
    await audit(ctx, {
      action: 'organization.update',
      resourceType: 'Organization',
      resourceId: Organization.from(org).id,
      details: { ...input },
    });
    return Organization.from(org);
  }
}
