import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { graphql, isEnumType, isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import { Arg, buildSchema, Query, Resolver } from 'type-graphql';
import { DomainError, ErrorCode } from '../../src/errors/index.js';
import { Transform, TransformInput, transformInputToPlan } from '../../src/graphql/types/transform.type.js';
import { OPERATIONS, parseOps, printPlan } from '../../src/transforms/index.js';

/** Echoes a TransformInput as its canonical plan and URL ops. */
@Resolver()
class EchoResolver {
  @Query(() => Transform)
  echo(@Arg('transform', () => TransformInput) transform: TransformInput): Transform {
    return Transform.from(transformInputToPlan(transform));
  }

  @Query(() => String)
  ops(@Arg('transform', () => TransformInput) transform: TransformInput): string {
    return printPlan(transformInputToPlan(transform));
  }

  @Query(() => Transform)
  parsed(@Arg('ops') ops: string): Transform {
    const parsed = parseOps(ops);
    if (parsed.kind !== 'transform') throw new Error('not a transform');
    return Transform.from(parsed.plan);
  }
}

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildSchema({ resolvers: [EchoResolver], validate: false });
});

describe('TransformInput and Transform, from the operations table', () => {
  it('have one nullable, described field per operation', () => {
    const input = schema.getType('TransformInput');
    const output = schema.getType('Transform');
    if (!isInputObjectType(input) || !isObjectType(output)) throw new Error('types missing');
    for (const op of OPERATIONS) {
      for (const field of [input.getFields()[op.field], output.getFields()[op.field]]) {
        expect(field).toBeDefined();
        expect(String(field!.type)).not.toMatch(/!$/);
        expect(field!.description).toContain(op.description);
        expect(field!.description).toContain(`URL token: ${op.flag ? op.token : `${op.token}_`}`);
      }
    }
    expect(Object.keys(input.getFields()).sort()).toEqual(OPERATIONS.map((op) => op.field).sort());
    expect(String(input.getFields().width!.type)).toBe('Int');
    expect(String(input.getFields().blur!.type)).toBe('Float');
    expect(String(input.getFields().grayscale!.type)).toBe('Boolean');
    expect(String(input.getFields().crop!.type)).toBe('CropInput');
    expect(String(output.getFields().crop!.type)).toBe('Crop');
    expect(String(input.getFields().watermark!.type)).toBe('WatermarkInput');
  });

  it('registers the enums with the table values', () => {
    const fit = schema.getType('Fit');
    const format = schema.getType('ImageFormat');
    const gravity = schema.getType('Gravity');
    if (!isEnumType(fit) || !isEnumType(format) || !isEnumType(gravity)) throw new Error('enums missing');
    expect(fit.getValues().map((v) => v.value)).toEqual([
      'cover',
      'contain',
      'fill',
      'inside',
      'outside',
      'pad',
    ]);
    expect(format.getValues().map((v) => v.name)).toEqual(['JPG', 'PNG', 'WEBP', 'AVIF', 'GIF', 'AUTO']);
    expect(gravity.getValues().map((v) => v.value)).toContain('focal');
  });

  it('turns an input into the same plan as the URL', async () => {
    const result = await graphql({
      schema,
      source: `{ ops(transform: { width: 300, dpr: 2, fit: COVER, height: 200, format: WEBP, grayscale: true, crop: { x: 1, y: 2, width: 30, height: 40 }, watermark: { text: "hi", position: NORTH_WEST } }) }`,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.ops).toBe(
      `c_1,2,30,40-w_600-h_400-f_cover-bw-fmt_webp-wm_${Buffer.from('hi').toString('base64url')},nw`,
    );
  });

  it('refuses bad values with the URL grammar messages', async () => {
    const result = await graphql({ schema, source: '{ ops(transform: { width: 99999 }) }' });
    const error = result.errors?.[0];
    expect(error?.originalError).toBeInstanceOf(DomainError);
    expect((error?.originalError as DomainError).code).toBe(ErrorCode.BadUserInput);
    expect(error?.message).toContain('Expected integer between 1 and 8192 for w but received 99999');
    expect((error?.originalError as DomainError).details).toEqual({ field: 'width' });
  });

  it('answers a plan with quality auto as null, and enums by name', async () => {
    const result = await graphql({
      schema,
      source:
        '{ parsed(ops: "w_10-h_10-f_pad-g_ne-q_auto-fmt_auto-r_90") { width height fit gravity quality format rotate flip } }',
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.parsed).toEqual({
      width: 10,
      height: 10,
      fit: 'PAD',
      gravity: 'NORTH_EAST',
      quality: null,
      format: 'AUTO',
      rotate: 90,
      flip: null,
    });
  });
});
