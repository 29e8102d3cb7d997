import { Field, ID, InputType } from 'type-graphql';
import { TransformInput } from '../types/transform.type.js';

@InputType()
export class CreatePresetInput {
  @Field(() => ID, {
    nullable: true,
    description: 'The space; absent for an organization-wide preset (organization-wide keys only).',
  })
  spaceId?: string;
  @Field() name: string;
  @Field({ description: 'URL name: `preset_{slug}`. Lowercase letters, digits and hyphens.' }) slug: string;
  @Field(() => TransformInput) transform: TransformInput;
  @Field({ nullable: true, defaultValue: false }) autoGenerate?: boolean;
  @Field(() => [String], { nullable: true }) matchTags?: string[];
  @Field(() => [String], { nullable: true }) matchFolders?: string[];
}

@InputType()
export class UpdatePresetInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) slug?: string;
  @Field(() => TransformInput, {
    nullable: true,
    description: 'Replaces the transform: URLs of the preset then serve the new one.',
  })
  transform?: TransformInput;
  @Field({ nullable: true }) autoGenerate?: boolean;
  @Field(() => [String], { nullable: true }) matchTags?: string[];
  @Field(() => [String], { nullable: true }) matchFolders?: string[];
}
