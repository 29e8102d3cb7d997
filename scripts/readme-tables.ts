/**
 * Regenerates the tables in README.md that are derived from code (`npm run docs`): the
 * configuration reference from the config table. Each lives between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedTables, replaceGenerated } from '../src/docs/readme-tables.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
let text = readFileSync(readme, 'utf8');
for (const [name, table] of Object.entries(generatedTables())) text = replaceGenerated(text, name, table);
writeFileSync(readme, text);
process.stdout.write(`updated ${readme}\n`);
