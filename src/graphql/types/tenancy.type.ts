import { Field, ID, Int, ObjectType } from 'type-graphql';
import type {
  OrganizationEntity,
  SpaceEntity,
  SpaceRateLimits,
  TenantEntity,
} from '../../db/entities/index.js';
import { toPublicId } from '../../ids/index.js';
import { DEFAULT_LADDER } from '../../media/widths.js';
import { AccessEnum, TransformPolicyEnum } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({ implements: Node, description: 'A customer account: the top of the tenancy tree.' })
export class Organization extends Node {
  @Field() slug: string;
  @Field() name: string;
  @Field() createdAt: Date;
  /** Row id, for loaders; not in the schema. */
  rowId: string;

  static from(row: OrganizationEntity): Organization {
    return Object.assign(new Organization(), {
      id: toPublicId('Organization', row.id),
      rowId: row.id,
      slug: row.slug,
      name: row.name,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'A tenant of an organization: a brand, an environment, a client.',
})
export class Tenant extends Node {
  @Field() slug: string;
  @Field() name: string;
  @Field() createdAt: Date;
  rowId: string;
  organizationRowId: string;

  static from(row: TenantEntity): Tenant {
    return Object.assign(new Tenant(), {
      id: toPublicId('Tenant', row.id),
      rowId: row.id,
      organizationRowId: row.organizationId,
      slug: row.slug,
      name: row.name,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType('SpaceRateLimits', {
  description:
    "A space's own per-minute limits for each client address; null means none of its own (the server's limits apply).",
})
export class SpaceRateLimitsType {
  @Field(() => Int, { nullable: true, description: 'Image requests a minute, cache hits included.' })
  imagesPerMinute: number | null;
  @Field(() => Int, { nullable: true, description: 'New renders a minute.' })
  rendersPerMinute: number | null;

  static from(limits: SpaceRateLimits | undefined): SpaceRateLimitsType {
    return Object.assign(new SpaceRateLimitsType(), {
      imagesPerMinute: limits?.imagesPerMinute ?? null,
      rendersPerMinute: limits?.rendersPerMinute ?? null,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'A library of assets, with its own access defaults and transform policy.',
})
export class Space extends Node {
  @Field() slug: string;
  @Field() name: string;
  @Field(() => AccessEnum, { description: 'Access of new assets when an upload does not say.' })
  defaultAccess: AccessEnum;
  @Field(() => TransformPolicyEnum) transformPolicy: TransformPolicyEnum;
  @Field({
    description: 'Keep GPS position in stored EXIF (off by default: it reveals where a photo was taken).',
  })
  keepGps: boolean;
  @Field(() => [Int], { description: 'Widths the space serves; srcSet and image offer only these.' })
  widths: number[];
  @Field(() => SpaceRateLimitsType, { description: 'Per-minute limits the space sets (`updateSpace`).' })
  rateLimits: SpaceRateLimitsType;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
  rowId: string;
  organizationRowId: string;
  tenantRowId: string;
  entity: SpaceEntity;

  static from(row: SpaceEntity): Space {
    return Object.assign(new Space(), {
      id: toPublicId('Space', row.id),
      rowId: row.id,
      organizationRowId: row.organizationId,
      tenantRowId: row.tenantId,
      slug: row.slug,
      name: row.name,
      defaultAccess: row.defaultAccess as AccessEnum,
      transformPolicy: row.transformPolicy as TransformPolicyEnum,
      keepGps: row.keepGps,
      widths: [...(row.settings.widths ?? DEFAULT_LADDER)],
      rateLimits: SpaceRateLimitsType.from(row.settings.rateLimits),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      entity: row,
    });
  }
}

/** Result of deleting something: the id that was deleted. */
@ObjectType()
export class DeletedPayload {
  @Field(() => ID) id: string;
}
