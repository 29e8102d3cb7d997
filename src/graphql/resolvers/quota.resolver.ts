import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Resolver,
  Root,
} from 'type-graphql';
import type { Quota } from '../../db/entities/index.js';
import { checkQuota, type QuotaUsage } from '../../media/quota.service.js';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { rowIdOf } from '../ids.js';
import { Organization, Space } from '../types/tenancy.type.js';

@ObjectType('Quota', { description: 'Limits; null means unlimited. Days are UTC.' })
class QuotaType {
  @Field(() => Float, { nullable: true, description: 'Originals plus variants stored, bytes.' }) storedBytes:
    number | null;
  @Field(() => Int, { nullable: true, description: 'Live originals.' }) originals: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      'New renders a day; beyond it renders answer 429 until midnight UTC, cached images keep being served.',
  })
  rendersPerDay: number | null;
  @Field(() => Float, { nullable: true, description: 'Image bytes served a day.' }) bytesServedPerDay:
    number | null;

  static from(quota: Quota | undefined): QuotaType {
    return Object.assign(new QuotaType(), {
      storedBytes: quota?.storedBytes ?? null,
      originals: quota?.originals ?? null,
      rendersPerDay: quota?.rendersPerDay ?? null,
      bytesServedPerDay: quota?.bytesServedPerDay ?? null,
    });
  }
}

@ObjectType('QuotaUsage', { description: 'What is used now, against the quota.' })
class QuotaUsageType {
  @Field(() => Float) storedBytes: number;
  @Field(() => Int) originals: number;
  @Field(() => Int) rendersToday: number;
  @Field(() => Float) bytesServedToday: number;

  static from(usage: QuotaUsage): QuotaUsageType {
    return Object.assign(new QuotaUsageType(), usage);
  }
}

@InputType()
class QuotaInput {
  @Field(() => Float, { nullable: true }) storedBytes?: number | null;
  @Field(() => Int, { nullable: true }) originals?: number | null;
  @Field(() => Int, { nullable: true }) rendersPerDay?: number | null;
  @Field(() => Float, { nullable: true }) bytesServedPerDay?: number | null;
}

@Resolver(() => Space)
export class SpaceQuotaResolver {
  @FieldResolver(() => QuotaType, { description: "The space's own quota (the organization's applies too)." })
  quota(@Root() space: Space): QuotaType {
    return QuotaType.from(space.entity.settings.quota);
  }

  @FieldResolver(() => QuotaUsageType, { description: 'What the space uses now.' })
  async usage(@Root() space: Space, @Ctx() ctx: GraphQLContext): Promise<QuotaUsageType> {
    return QuotaUsageType.from(await ctx.services.quota.usageOf(space.entity));
  }

  @Authorized('admin')
  @Mutation(() => Space, { description: "Sets a space's quota; null fields are unlimited." })
  async setSpaceQuota(
    @Arg('spaceId', () => ID) spaceId: string,
    @Arg('quota') input: QuotaInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Space> {
    const quota = checkQuota({ ...input });
    const space = await ctx.services.quota.setSpaceQuota(principalOf(ctx), rowIdOf('Space', spaceId), quota);
    await audit(ctx, {
      action: 'space.quota',
      resourceType: 'Space',
      resourceId: spaceId,
      tenantId: space.tenantId,
      spaceId: space.id,
      details: { ...quota },
    });
    return Space.from(space);
  }
}

@Resolver(() => Organization)
export class OrganizationQuotaResolver {
  @FieldResolver(() => QuotaType)
  async quota(@Root() org: Organization, @Ctx() ctx: GraphQLContext): Promise<QuotaType> {
    const row = await ctx.loaders.organization.load(org.rowId);
    return QuotaType.from(row?.settings?.quota);
  }

  @FieldResolver(() => QuotaUsageType, { description: 'What the whole organization uses now.' })
  async usage(@Root() org: Organization, @Ctx() ctx: GraphQLContext): Promise<QuotaUsageType> {
    principalOf(ctx);
    return QuotaUsageType.from(await ctx.services.quota.usageOfOrganization(org.rowId));
  }

  @Authorized('admin')
  @Mutation(() => Organization, {
    description: "Sets the caller's organization quota (organization-wide admin keys only).",
  })
  async setOrganizationQuota(
    @Arg('quota') input: QuotaInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Organization> {
    const quota = checkQuota({ ...input });
    const org = await ctx.services.quota.setOrganizationQuota(principalOf(ctx), quota);
    const result = Organization.from(org);
    await audit(ctx, {
      action: 'organization.quota',
      resourceType: 'Organization',
      resourceId: result.id,
      details: { ...quota },
    });
    return result;
  }
}
