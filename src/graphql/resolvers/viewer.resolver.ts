import { Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { notFound } from '../../errors/index.js';
import { principalOf, type GraphQLContext } from '../context.js';
import { ApiKey } from '../types/credentials.type.js';
import { Organization, Space, Tenant } from '../types/tenancy.type.js';
import { Viewer } from '../types/viewer.type.js';

@Resolver(() => Viewer)
export class ViewerResolver {
  @Authorized()
  @Query(() => Viewer, { description: 'The caller.' })
  viewer(@Ctx() ctx: GraphQLContext): Viewer {
    return Viewer.from(principalOf(ctx));
  }

  @FieldResolver(() => Organization)
  async organization(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<Organization> {
    const row = await ctx.loaders.organization.load(viewer.principal.organizationId);
    if (!row) throw notFound('Organization');
    return Organization.from(row);
  }

  @FieldResolver(() => Tenant, { nullable: true, description: 'The tenant the caller is bound to, if any.' })
  async tenant(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<Tenant | null> {
    if (viewer.principal.tenantId === null) return null;
    const row = await ctx.loaders.tenant.load(viewer.principal.tenantId);
    return row && Tenant.from(row);
  }

  @FieldResolver(() => Space, { nullable: true, description: 'The space the caller is bound to, if any.' })
  async space(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<Space | null> {
    if (viewer.principal.spaceId === null) return null;
    const row = await ctx.loaders.space.load(viewer.principal.spaceId);
    return row && Space.from(row);
  }

  @FieldResolver(() => ApiKey, { nullable: true, description: 'The API key in use, when the caller is one.' })
  async apiKey(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<ApiKey | null> {
    const rowId = viewer.principal.apiKeyRowId;
    if (rowId === undefined) return null;
    return ApiKey.from(await ctx.services.apiKeys.findVisible(viewer.principal, rowId));
  }
}
