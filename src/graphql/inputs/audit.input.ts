import { Field, ID, InputType } from 'type-graphql';

@InputType()
export class AuditFilterInput {
  @Field({ nullable: true, description: 'e.g. asset.upload, api_key.revoke.' }) action?: string;
  @Field({ nullable: true }) resourceType?: string;
  @Field({ nullable: true }) resourceId?: string;
  @Field({ nullable: true }) actorId?: string;
  @Field(() => ID, { nullable: true }) spaceId?: string;
  @Field({ nullable: true }) since?: Date;
  @Field({ nullable: true }) until?: Date;
}
