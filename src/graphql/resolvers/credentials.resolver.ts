import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Scope } from '../../auth/principal.js';
import {
  connectionType,
  decodeCursor,
  encodeCursor,
  pageSize,
  toConnection,
  type Connection,
} from '../connection.js';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { optionalRowIdOf, rowIdOf } from '../ids.js';
import { CreateApiKeyInput } from '../inputs/credentials.input.js';
import { ApiKey, CreatedApiKey, SigningKey } from '../types/credentials.type.js';
import { Space, Tenant } from '../types/tenancy.type.js';

export const ApiKeyConnection = connectionType(ApiKey, 'ApiKey');

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Authorized('admin')
  @Query(() => ApiKeyConnection, { description: 'API keys the caller can manage, newest first.' })
  async apiKeys(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Connection<ApiKey>> {
    const limit = pageSize(first, ctx.limits.maxPageSize);
    const cursor = after === undefined || after === null ? undefined : decodeCursor(after, 2);
    const rows = await ctx.services.apiKeys.list(
      principalOf(ctx),
      limit + 1,
      cursor && { createdAt: new Date(String(cursor[0])), id: String(cursor[1]) },
    );
    return toConnection(
      rows,
      limit,
      (r) => encodeCursor([r.createdAt.toISOString(), r.id]),
      (r) => ApiKey.from(r),
      cursor !== undefined,
    );
  }

  @FieldResolver(() => Tenant, { nullable: true, description: 'The tenant the key is bound to, if any.' })
  async tenant(@Root() key: ApiKey, @Ctx() ctx: GraphQLContext): Promise<Tenant | null> {
    if (key.tenantRowId === null) return null;
    const row = await ctx.loaders.tenant.load(key.tenantRowId);
    return row && Tenant.from(row);
  }

  @FieldResolver(() => Space, { nullable: true, description: 'The space the key is bound to, if any.' })
  async space(@Root() key: ApiKey, @Ctx() ctx: GraphQLContext): Promise<Space | null> {
    if (key.spaceRowId === null) return null;
    const row = await ctx.loaders.space.load(key.spaceRowId);
    return row && Space.from(row);
  }

  @Authorized('admin')
  @Mutation(() => CreatedApiKey, {
    description: 'Creates a key no wider than the caller; its token is returned only here.',
  })
  async createApiKey(
    @Arg('input') input: CreateApiKeyInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreatedApiKey> {
    const { key, token } = await ctx.services.apiKeys.create(principalOf(ctx), {
      name: input.name,
      scopes: input.scopes as Scope[],
      tenantId: optionalRowIdOf('Tenant', input.tenantId),
      spaceId: optionalRowIdOf('Space', input.spaceId),
      expiresAt: input.expiresAt ?? null,
    });
    const apiKey = ApiKey.from(key);
    await audit(ctx, {
      action: 'api_key.create',
      resourceType: 'ApiKey',
      resourceId: apiKey.id,
      tenantId: key.tenantId,
      spaceId: key.spaceId,
      details: { name: key.name, scopes: key.scopes, expiresAt: key.expiresAt?.toISOString() ?? null },
    });
    return Object.assign(new CreatedApiKey(), { apiKey, token });
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Revokes a key at once. Idempotent.' })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const key = await ctx.services.apiKeys.revoke(principalOf(ctx), rowIdOf('ApiKey', id));
    await audit(ctx, {
      action: 'api_key.revoke',
      resourceType: 'ApiKey',
      resourceId: id,
      tenantId: key.tenantId,
      spaceId: key.spaceId,
    });
    return true;
  }
}

@Resolver(() => SigningKey)
export class SigningKeyResolver {
  @Authorized('admin')
  @Query(() => [SigningKey], { description: "The organization's URL signing keys, newest first." })
  async signingKeys(@Ctx() ctx: GraphQLContext): Promise<SigningKey[]> {
    return (await ctx.services.signingKeys.list(principalOf(ctx))).map(SigningKey.from);
  }

  @Authorized('admin')
  @Mutation(() => SigningKey, {
    description:
      'Makes a new key for new signed URLs; the previous key keeps verifying for the grace period.',
  })
  async rotateSigningKey(@Ctx() ctx: GraphQLContext): Promise<SigningKey> {
    const key = await ctx.services.signingKeys.rotate(principalOf(ctx));
    await audit(ctx, {
      action: 'signing_key.rotate',
      resourceType: 'SigningKey',
      resourceId: key.kid,
      tenantId: null,
      spaceId: null,
    });
    return SigningKey.from(key);
  }
}
