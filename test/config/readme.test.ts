import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedTables, replaceGenerated } from '../../src/docs/readme-tables.js';
import { repoRoot } from '../support/fixtures.js';

describe('README', () => {
  it('carries the generated tables as the code defines them (run `npm run docs` after changing them)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    let expected = readme;
    for (const [name, table] of Object.entries(generatedTables()))
      expected = replaceGenerated(expected, name, table);
    expect(readme).toBe(expected);
  });

  it('gives a newcomer the two commands', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
