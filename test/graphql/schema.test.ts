import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTesseraSchema, printTesseraSchema } from '../../src/graphql/schema.js';
import { repoRoot } from '../support/fixtures.js';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run schema` after changing GraphQL types)', async () => {
    const emitted = printTesseraSchema(await buildTesseraSchema());
    const checkedIn = readFileSync(join(repoRoot, 'schema', 'schema.graphql'), 'utf8');
    expect(checkedIn).toBe(emitted);
  });
});
