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
}
