import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Principal } from '../../auth/principal.js';
import { isDomainError, ErrorCode } from '../../errors/index.js';
import { parsePublicId, type IdType } from '../../ids/index.js';
import { principalOf, type GraphQLContext } from '../context.js';
import { Asset } from '../types/asset.type.js';
import { Preset, Variant } from '../types/delivery.type.js';
import { ApiKey } from '../types/credentials.type.js';
import { Node } from '../types/node.type.js';
import { Organization, Space, Tenant } from '../types/tenancy.type.js';

type Fetch = (ctx: GraphQLContext, principal: Principal, rowId: string) => Promise<Node | null>;

/** How `node(id)` fetches each type; every fetch applies the same visibility as the type's own query. */
const fetchers: Readonly<Partial<Record<IdType, Fetch>>> = {
  Organization: async (ctx, principal, rowId) =>
    rowId === principal.organizationId
      ? Organization.from(await ctx.services.tenancy.organization(principal))
      : null,
  Tenant: async (ctx, principal, rowId) => Tenant.from(await ctx.services.tenancy.tenant(principal, rowId)),
  Space: async (ctx, principal, rowId) => Space.from(await ctx.services.tenancy.space(principal, rowId)),
  Asset: async (ctx, principal, rowId) => Asset.from(await ctx.services.assets.get(principal, rowId)),
  Preset: async (ctx, principal, rowId) => Preset.from(await ctx.services.presets.get(principal, rowId)),
  Variant: async (ctx, principal, rowId) => {
    const row = await ctx.services.variantQueries.byId(rowId);
    if (!row) return null;
    await ctx.services.assets.get(principal, row.assetId);
    return Variant.from(row);
  },
  ApiKey: async (ctx, principal, rowId) => {
    if (!principal.scopes.has('admin')) return null;
    return ApiKey.from(await ctx.services.apiKeys.findVisible(principal, rowId));
  },
};

@Resolver()
export class NodeResolver {
  @Authorized()
  @Query(() => Node, {
    nullable: true,
    description: 'Any object by its global id; null when unknown or not visible.',
  })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Node | null> {
    const principal = principalOf(ctx);
    const parsed = parsePublicId(id);
    const fetch = parsed && fetchers[parsed.type];
    if (!parsed || !fetch) return null;
    try {
      return await fetch(ctx, principal, parsed.uuid);
    } catch (error) {
      if (isDomainError(error) && error.code === ErrorCode.NotFound) return null;
      throw error;
    }
  }
}
