/**
 * `TransformInput` and `Transform`, derived from the operations table: one nullable field per
 * operation, typed and described as the table says. Adding an operation to the table adds it here.
 */
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

/** What type-graphql's `@Field` accepts as its type function. */
type ReturnTypeFunc = NonNullable<Parameters<typeof Field>[0]> & ((...args: never[]) => unknown);
import {
  CORNERS,
  OPERATIONS,
  planFromInput,
  planToOutput,
  type Corner,
  type Crop,
  type GrammarLimits,
  type TransformPlan,
  type Watermark,
} from '../../transforms/index.js';

const GRAVITY_NAMES: Readonly<Record<string, string>> = {
  center: 'CENTER',
  n: 'NORTH',
  ne: 'NORTH_EAST',
  e: 'EAST',
  se: 'SOUTH_EAST',
  s: 'SOUTH',
  sw: 'SOUTH_WEST',
  w: 'WEST',
  nw: 'NORTH_WEST',
};

/** A GraphQL enum whose values are the plan's own values (`NORTH_EAST` → `ne`). */
function enumOf(
  name: string,
  values: readonly (string | number)[],
  description: string,
): Record<string, string> {
  const members: Record<string, string> = {};
  for (const value of values)
    members[GRAVITY_NAMES[String(value)] ?? String(value).toUpperCase()] = String(value);
  registerEnumType(members, { name, description });
  return members;
}

const enums = new Map<string, Record<string, string>>();
for (const op of OPERATIONS) {
  if (op.graphql.kind === 'enum')
    enums.set(op.field, enumOf(op.graphql.name, op.graphql.values, op.description));
}
export const CornerEnum = enumOf('Corner', CORNERS, 'A corner of the image.');

@InputType({ description: 'A region of the source, px, after EXIF orientation.' })
export class CropInput implements Crop {
  @Field(() => Int) x: number;
  @Field(() => Int) y: number;
  @Field(() => Int) width: number;
  @Field(() => Int) height: number;
}

@ObjectType('Crop', { description: 'A region of the source, px, after EXIF orientation.' })
export class CropType implements Crop {
  @Field(() => Int) x: number;
  @Field(() => Int) y: number;
  @Field(() => Int) width: number;
  @Field(() => Int) height: number;
}

@InputType({ description: 'Text drawn in a corner.' })
export class WatermarkInput {
  @Field({ description: '1 to 100 characters.' }) text: string;
  @Field(() => CornerEnum, { nullable: true, description: 'Defaults to SOUTH_EAST.' }) position?: Corner;
}

@ObjectType('Watermark', { description: 'Text drawn in a corner.' })
export class WatermarkType implements Watermark {
  @Field() text: string;
  @Field(() => CornerEnum) position: Corner;
}

/** What a transform field is called in GraphQL (the plan's `grayscale` is `grayscale` here too). */
type Shape = (typeof OPERATIONS)[number]['graphql'];

function inputType(field: string, shape: Shape): ReturnTypeFunc {
  switch (shape.kind) {
    case 'Int':
      return () => Int;
    case 'Float':
      return () => Float;
    case 'Boolean':
      return () => Boolean;
    case 'String':
      return () => String;
    case 'enum':
      return () => enums.get(field)!;
    case 'crop':
      return () => CropInput;
    case 'watermark':
      return () => WatermarkInput;
  }
}

function outputType(field: string, shape: Shape): ReturnTypeFunc {
  if (shape.kind === 'crop') return () => CropType;
  if (shape.kind === 'watermark') return () => WatermarkType;
  return inputType(field, shape);
}

@InputType({
  description: 'An image transform. Every field is optional; see the URL grammar for what each does.',
})
export class TransformInput {
  [field: string]: unknown;
}

@ObjectType({ description: 'A transform, in canonical form.' })
export class Transform {
  [field: string]: unknown;

  /** The GraphQL face of a plan (`quality: 'auto'` shows as null). */
  static from(plan: TransformPlan): Transform {
    return Object.assign(new Transform(), planToOutput(plan));
  }
}

for (const op of OPERATIONS) {
  const description = `${op.description}${op.range ? ` Range: ${op.range}.` : ''} URL token: ${op.flag ? op.token : `${op.token}_`}.`;
  Field(inputType(op.field, op.graphql), { nullable: true, description })(TransformInput.prototype, op.field);
  Field(outputType(op.field, op.graphql), { nullable: true, description })(Transform.prototype, op.field);
}

/** The plan-shaped record of a TransformInput (nested inputs as plain objects); checked by `planFromInput`. */
export function transformInputRecord(input: TransformInput): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const op of OPERATIONS) {
    const value = input[op.field];
    if (value === undefined || value === null) continue;
    record[op.field] = typeof value === 'object' ? { ...(value as object) } : value;
  }
  return record;
}

/**
 * The plan of a TransformInput, checked as the URL grammar checks it.
 * @throws DomainError BAD_USER_INPUT naming the field (`details.field`).
 */
export function transformInputToPlan(
  input: TransformInput,
  limits: Partial<GrammarLimits> = {},
): TransformPlan {
  return planFromInput(transformInputRecord(input), limits);
}
