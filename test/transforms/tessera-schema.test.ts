import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { isEnumType, isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import { buildTesseraSchema } from '../../src/graphql/schema.js';
import { CORNERS, OPERATIONS } from '../../src/transforms/index.js';

describe('the Tessera schema', () => {
  let tessera: GraphQLSchema;

  beforeAll(async () => {
    tessera = await buildTesseraSchema();
  });

  it('has TransformInput and Transform with one field per table operation, described by the table', () => {
    const input = tessera.getType('TransformInput');
    const output = tessera.getType('Transform');
    if (!isInputObjectType(input) || !isObjectType(output))
      throw new Error('TransformInput or Transform missing from the schema');
    expect(Object.keys(input.getFields()).sort()).toEqual(OPERATIONS.map((op) => op.field).sort());
    expect(Object.keys(output.getFields()).sort()).toEqual(OPERATIONS.map((op) => op.field).sort());
    for (const op of OPERATIONS) {
      for (const field of [input.getFields()[op.field]!, output.getFields()[op.field]!]) {
        expect(field.description).toContain(op.description);
        expect(field.description).toContain(`URL token: ${op.flag ? op.token : `${op.token}_`}`);
        expect(String(field.type)).not.toMatch(/!$/);
      }
    }
  });

  it('carries each enum of the table with the table values, in order', () => {
    for (const op of OPERATIONS) {
      if (op.graphql.kind !== 'enum') continue;
      const type = tessera.getType(op.graphql.name);
      if (!isEnumType(type)) throw new Error(`${op.graphql.name} missing`);
      expect(type.getValues().map((v) => v.value)).toEqual([...op.graphql.values]);
      const input = tessera.getType('TransformInput');
      if (!isInputObjectType(input)) throw new Error('TransformInput missing');
      expect(String(input.getFields()[op.field]!.type)).toBe(op.graphql.name);
    }
    const corner = tessera.getType('Corner');
    if (!isEnumType(corner)) throw new Error('Corner missing');
    expect(corner.getValues().map((v) => v.value)).toEqual([...CORNERS]);
  });
});
