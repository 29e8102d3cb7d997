import { Field, ID, InputType, Int } from 'type-graphql';
import { AccessEnum, TransformPolicyEnum, WidthPolicyEnum } from '../types/enums.js';

@InputType()
export class UpdateOrganizationInput {
  @Field({ nullable: true }) name?: string;
}

@InputType()
export class CreateTenantInput {
  @Field() name: string;
  @Field({ nullable: true, description: 'URL-safe name; derived from `name` when absent.' }) slug?: string;
}

@InputType()
export class UpdateTenantInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) slug?: string;
}

@InputType()
export class CreateSpaceInput {
  @Field(() => ID) tenantId: string;
  @Field() name: string;
  @Field({
    nullable: true,
    description: 'URL-safe name, unique in the tenant; derived from `name` when absent.',
  })
  slug?: string;
  @Field(() => AccessEnum, { nullable: true }) defaultAccess?: AccessEnum;
  @Field(() => TransformPolicyEnum, { nullable: true }) transformPolicy?: TransformPolicyEnum;
  @Field({ nullable: true }) keepGps?: boolean;
}

@InputType({
  description:
    "A space's own per-minute limits for each client address (0 to 10,000,000; 0 sets none of the space's own). A field left out stays as it is; null clears it.",
})
export class SpaceRateLimitsInput {
  @Field(() => Int, {
    nullable: true,
    description: 'Image requests a minute per client address, cache hits included.',
  })
  imagesPerMinute?: number | null;
  @Field(() => Int, { nullable: true, description: 'New renders a minute per client address.' })
  rendersPerMinute?: number | null;
}

@InputType()
export class UpdateSpaceInput {
  @Field(() => [Int], { nullable: true, description: 'Widths the space serves (1 to 64).' })
  widths?: number[];
  @Field(() => WidthPolicyEnum, { nullable: true }) widthPolicy?: WidthPolicyEnum;
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true, description: 'Changing the slug changes every image URL of the space.' })
  slug?: string;
  @Field(() => AccessEnum, { nullable: true }) defaultAccess?: AccessEnum;
  @Field(() => TransformPolicyEnum, { nullable: true }) transformPolicy?: TransformPolicyEnum;
  @Field({ nullable: true }) keepGps?: boolean;
  @Field(() => SpaceRateLimitsInput, {
    nullable: true,
    description:
      "The space's per-minute limits (429 beyond them); null clears both. Keys bound to a space cannot change them.",
  })
  rateLimits?: SpaceRateLimitsInput | null;
}
