/**
 * The images the bench works on, made from the real photographs in the shared fixtures the way
 * their SOURCES.md describes, so that their making is visible.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixturePath, type FixtureName } from '../support/fixtures.js';

/** Size of Sharp's own benchmark image, px. */
export const BENCH_WIDTH = 2725;
export const BENCH_HEIGHT = 2225;

/**
 * Sharp's benchmark image: a 2725×2225 centre crop of the landscape photograph, no resampling,
 * re-encoded as JPEG at quality 80. Written to `{dir}/bench.jpg`.
 * @returns the file's path and bytes.
 */
export async function makeBenchPhoto(dir: string): Promise<{ path: string; bytes: Buffer }> {
  const source = sharp(fixturePath('picosdeeuropa_by_Aitzol_Berasategi.jpg'));
  const { width = 0, height = 0 } = await source.metadata();
  const bytes = await source
    .extract({
      left: Math.floor((width - BENCH_WIDTH) / 2),
      top: Math.floor((height - BENCH_HEIGHT) / 2),
      width: BENCH_WIDTH,
      height: BENCH_HEIGHT,
    })
    .jpeg({ quality: 80 })
    .toBuffer();
  const path = join(dir, 'bench.jpg');
  writeFileSync(path, bytes);
  return { path, bytes };
}

/**
 * A 24-megapixel photograph: the 13 MP dragonfly resized to 6000×4000 (cover: the 4:3 frame is
 * cropped to 3:2 at the centre), JPEG quality 90. Written to `{dir}/large.jpg`.
 */
export async function makeLargePhoto(dir: string): Promise<{ path: string; bytes: Buffer }> {
  const bytes = await sharp(fixturePath('Dragonfly_by_Bolly.jpg'))
    .resize(6000, 4000, { fit: 'cover' })
    .jpeg({ quality: 90 })
    .toBuffer();
  const path = join(dir, 'large.jpg');
  writeFileSync(path, bytes);
  return { path, bytes };
}

const LIBRARY_SOURCES: readonly FixtureName[] = [
  'picosdeeuropa_by_Aitzol_Berasategi.jpg',
  'Dragonfly_by_Bolly.jpg',
  'hubble_deep_field.jpg',
  'retina.jpg',
  'rocket.jpg',
  'astronaut.png',
  'coffee.png',
  'chelsea.png',
];

/**
 * `count` distinct small photographs (320×240 JPEG crops at different places of the fixtures),
 * the kind of library a GraphQL page lists; small, so that uploading them costs the bench little.
 */
export async function makeLibrary(count: number): Promise<{ name: string; bytes: Buffer }[]> {
  const sources = await Promise.all(
    LIBRARY_SOURCES.map((name) => sharp(fixturePath(name)).resize(400, 300, { fit: 'cover' }).toBuffer()),
  );
  const out: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < count; i += 1) {
    const step = Math.floor(i / sources.length);
    const bytes = await sharp(sources[i % sources.length]!)
      .extract({ left: (step * 13) % 80, top: (step * 7) % 60, width: 320, height: 240 })
      .jpeg({ quality: 82 })
      .toBuffer();
    out.push({ name: `library-${String(i).padStart(3, '0')}.jpg`, bytes });
  }
  return out;
}
