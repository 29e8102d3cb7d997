import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { connectionType, pageSize, toConnection, type Connection } from '../connection.js';
import { principalOf, type GraphQLContext } from '../context.js';
import { optionalRowIdOf, rowIdOf } from '../ids.js';
import { AuditFilterInput } from '../inputs/audit.input.js';
import { Asset } from '../types/asset.type.js';
import { Preset, Variant } from '../types/delivery.type.js';
import { AuditEntry, EagerVariant, ProcessingStatus, UsageDay } from '../types/operations.type.js';

export const AuditEntryConnection = connectionType(AuditEntry, 'AuditEntry');

@Resolver()
export class OperationsResolver {
  @Authorized('assets:read')
  @Query(() => [UsageDay], {
    description: 'Daily usage of a space between two dates (inclusive, UTC; at most 366 days).',
  })
  async usage(
    @Arg('spaceId', () => ID) spaceId: string,
    @Arg('from') from: Date,
    @Arg('to') to: Date,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UsageDay[]> {
    return (await ctx.services.usage.usage(principalOf(ctx), rowIdOf('Space', spaceId), from, to)).map(
      UsageDay.from,
    );
  }

  @Authorized('admin')
  @Query(() => AuditEntryConnection, { description: 'The audit log the admin may see, newest first.' })
  async auditLog(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => AuditFilterInput, { nullable: true }) filter?: AuditFilterInput,
  ): Promise<Connection<AuditEntry>> {
    const limit = pageSize(first, ctx.limits.maxPageSize);
    const rows = await ctx.services.audit.list(principalOf(ctx), limit + 1, after ?? undefined, {
      ...filter,
      spaceId: optionalRowIdOf('Space', filter?.spaceId) ?? undefined,
    });
    return toConnection(
      rows,
      limit,
      (r) => String(r.id),
      AuditEntry.from,
      after !== undefined && after !== null,
    );
  }
}

@Resolver(() => Asset)
export class AssetProcessingResolver {
  @FieldResolver(() => [EagerVariant], {
    description: 'Eager presets of the current version: pending, done or failed.',
  })
  async processing(@Root() asset: Asset, @Ctx() ctx: GraphQLContext): Promise<EagerVariant[]> {
    const states = await ctx.services.eager.status(asset.entity);
    return states.map((s) =>
      Object.assign(new EagerVariant(), {
        preset: Preset.from(s.preset),
        status: s.status as ProcessingStatus,
        variant: s.variant && Variant.from(s.variant),
      }),
    );
  }
}
