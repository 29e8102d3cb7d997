/** Real photographs for tests, from `../shared/fixtures/` beside the checkout (see its SOURCES.md). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, '..', 'shared', 'fixtures');

export type FixtureName =
  | 'astronaut.png'
  | 'chelsea.png'
  | 'coffee.png'
  | 'rocket.jpg'
  | 'hubble_deep_field.jpg'
  | 'retina.jpg'
  | 'logo.png'
  | 'no_time_for_that_tiny.gif'
  | 'truncated.jpg'
  | 'picosdeeuropa_by_Aitzol_Berasategi.jpg'
  | 'Dragonfly_by_Bolly.jpg';

export const fixturePath = (name: FixtureName): string => join(fixturesDir, name);
export const fixture = (name: FixtureName): Buffer => readFileSync(fixturePath(name));
