import { Field, ID, InputType } from 'type-graphql';
import { ScopeEnum } from '../types/enums.js';

@InputType()
export class CreateApiKeyInput {
  @Field() name: string;
  @Field(() => [ScopeEnum]) scopes: ScopeEnum[];
  @Field(() => ID, { nullable: true, description: 'Bind the key to one tenant.' }) tenantId?: string;
  @Field(() => ID, { nullable: true, description: 'Bind the key to one space (implies its tenant).' })
  spaceId?: string;
  @Field(() => Date, { nullable: true }) expiresAt?: Date;
}
