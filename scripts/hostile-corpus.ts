/**
 * `npm run corpus [-- <directory>]`: writes the hostile input corpus (truncated, corrupt, bombs,
 * frame floods, polyglots, disguised markup, giant and broken metadata, empty and text files), made
 * from the fixture photographs, into a directory (default `test/.artifacts/hostile-corpus`) with a
 * `manifest.json` saying what each file is and what a correct server does with it.
 */
import { join, resolve } from 'node:path';
import { buildHostileCorpus, writeHostileCorpus } from '../test/reliability/hostile-corpus.js';
import { repoRoot } from '../test/support/fixtures.js';

const directory = resolve(process.argv[2] ?? join(repoRoot, 'test', '.artifacts', 'hostile-corpus'));
const manifest = writeHostileCorpus(directory, await buildHostileCorpus());
const bytes = manifest.reduce((sum, file) => sum + file.bytes, 0);
const byOutcome = Object.entries(
  manifest.reduce<Record<string, number>>((counts, file) => {
    counts[file.outcome] = (counts[file.outcome] ?? 0) + 1;
    return counts;
  }, {}),
)
  .map(([outcome, count]) => `${count} ${outcome}`)
  .join(', ');
process.stdout.write(
  `${manifest.length} files (${(bytes / 1048576).toFixed(1)} MB; ${byOutcome}) written to ${directory}\n`,
);
