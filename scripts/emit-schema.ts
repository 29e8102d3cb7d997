/** Writes schema/schema.graphql from the type-graphql classes (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTesseraSchema, printTesseraSchema } from '../src/graphql/schema.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'schema.graphql');
writeFileSync(target, printTesseraSchema(await buildTesseraSchema()));
process.stdout.write(`wrote ${target}\n`);
