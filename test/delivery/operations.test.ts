/**
 * Every operation of the URL grammar, through an image URL and through `transformAsset`, for a
 * public and a private photograph, on local disk and on S3: the output read with Sharp has the
 * size and format `Asset.image` predicted, shows the operation (pixels compared with the same
 * operation done by Sharp on the original), and the second request for it never renders again.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import type { AssetView } from '../ingestion/ingest-client.js';
import {
  ACCEPT,
  dataOf,
  fetchImage,
  imageBase,
  imageInfo,
  imageOf,
  mimeOf,
  rendersOf,
  settle,
  sharpFormat,
  transformAsset,
  upload,
  type Fetched,
} from './delivery-client.js';
import { channelSpread, meanDifference, pixel, sharpness } from './pixels.js';

/** What the photograph is (rocket.jpg, 640×427) and what each check compares with. */
interface Source {
  readonly bytes: Buffer;
}

interface Case {
  readonly name: string;
  /** The ops as someone would type them (any order, dpr unfolded). */
  readonly ops: string;
  readonly ext?: string;
  readonly transform: Record<string, unknown>;
  /** Output width × height for the 640×427 photograph. */
  readonly size: readonly [number, number];
  readonly format: 'jpg' | 'png' | 'webp' | 'avif' | 'gif';
  /** Accept header of the URL request. */
  readonly accept?: string;
  /** Format `transformAsset` renders when it differs (no Accept header there). */
  readonly variantFormat?: 'jpg';
  readonly check?: (out: Buffer, source: Source) => Promise<void>;
}

const W300 = (source: Source) => sharp(source.bytes).resize(300);
const SAME = 8;

const cases: Case[] = [
  {
    name: 'w_ alone keeps the ratio',
    ops: 'w_300',
    transform: { width: 300 },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => expect(await meanDifference(out, W300(s))).toBeLessThan(SAME),
  },
  {
    name: 'h_ alone keeps the ratio',
    ops: 'h_200',
    transform: { height: 200 },
    size: [300, 200],
    format: 'jpg',
  },
  {
    name: 'f_cover (the default) fills the box',
    ops: 'h_300-w_300',
    transform: { width: 300, height: 300 },
    size: [300, 300],
    format: 'jpg',
    check: async (out, s) =>
      expect(await meanDifference(out, sharp(s.bytes).resize(300, 300))).toBeLessThan(SAME),
  },
  {
    name: 'f_contain letterboxes in white for JPEG',
    ops: 'w_300-h_300-f_contain',
    transform: { width: 300, height: 300, fit: 'CONTAIN' },
    size: [300, 300],
    format: 'jpg',
    check: async (out) => {
      for (const c of await pixel(out, 150, 10)) expect(c).toBeGreaterThan(245);
      for (const c of await pixel(out, 150, 290)) expect(c).toBeGreaterThan(245);
    },
  },
  {
    name: 'f_fill stretches',
    ops: 'f_fill-w_300-h_300',
    transform: { width: 300, height: 300, fit: 'FILL' },
    size: [300, 300],
    format: 'jpg',
    check: async (out, s) =>
      expect(await meanDifference(out, sharp(s.bytes).resize(300, 300, { fit: 'fill' }))).toBeLessThan(SAME),
  },
  {
    name: 'f_inside fits within the box',
    ops: 'w_300-h_300-f_inside',
    transform: { width: 300, height: 300, fit: 'INSIDE' },
    size: [300, 200],
    format: 'jpg',
  },
  {
    name: 'f_outside covers the box, keeping the ratio',
    ops: 'w_300-h_300-f_outside',
    transform: { width: 300, height: 300, fit: 'OUTSIDE' },
    size: [450, 300],
    format: 'jpg',
  },
  {
    name: 'f_pad puts the photograph, not enlarged, in the middle of the box',
    ops: 'w_800-h_600-f_pad',
    transform: { width: 800, height: 600, fit: 'PAD' },
    size: [800, 600],
    format: 'jpg',
    check: async (out, s) => {
      for (const c of await pixel(out, 10, 10)) expect(c).toBeGreaterThan(245);
      const inner = sharp(out).extract({ left: 80, top: 86, width: 640, height: 427 });
      expect(await meanDifference(await inner.toBuffer(), sharp(s.bytes))).toBeLessThan(SAME);
    },
  },
  {
    name: 'g_ne keeps the top right',
    ops: 'w_200-h_200-g_ne',
    transform: { width: 200, height: 200, gravity: 'NORTH_EAST' },
    size: [200, 200],
    format: 'jpg',
    check: async (out, s) => {
      expect(
        await meanDifference(out, sharp(s.bytes).resize(200, 200, { position: 'northeast' })),
      ).toBeLessThan(SAME);
      expect(
        await meanDifference(out, sharp(s.bytes).resize(200, 200, { position: 'west' })),
      ).toBeGreaterThan(2 * SAME);
    },
  },
  {
    name: 'g_attention',
    ops: 'w_200-h_200-g_attention',
    transform: { width: 200, height: 200, gravity: 'ATTENTION' },
    size: [200, 200],
    format: 'jpg',
  },
  {
    name: 'g_entropy',
    ops: 'g_entropy-w_200-h_200',
    transform: { width: 200, height: 200, gravity: 'ENTROPY' },
    size: [200, 200],
    format: 'jpg',
  },
  {
    name: 'g_focal keeps the focal point (set at the right edge)',
    ops: 'w_200-h_200-g_focal',
    transform: { width: 200, height: 200, gravity: 'FOCAL' },
    size: [200, 200],
    format: 'jpg',
    check: async (out, s) =>
      expect(await meanDifference(out, sharp(s.bytes).resize(200, 200, { position: 'east' }))).toBeLessThan(
        SAME,
      ),
  },
  {
    name: 'c_ crops the source',
    ops: 'c_100,50,300,200',
    transform: { crop: { x: 100, y: 50, width: 300, height: 200 } },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) =>
      expect(
        await meanDifference(out, sharp(s.bytes).extract({ left: 100, top: 50, width: 300, height: 200 })),
      ).toBeLessThan(SAME),
  },
  {
    name: 'b_ colours the letterbox',
    ops: 'w_300-h_300-f_contain-b_ff0000',
    transform: { width: 300, height: 300, fit: 'CONTAIN', background: 'FF0000' },
    size: [300, 300],
    format: 'jpg',
    check: async (out) => {
      const [r, g, b] = await pixel(out, 150, 10);
      expect(r).toBeGreaterThan(230);
      expect(g).toBeLessThan(30);
      expect(b).toBeLessThan(30);
    },
  },
  {
    name: 'q_ lowers the quality',
    ops: 'w_300-q_30',
    transform: { width: 300, quality: 30 },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => {
      const [q30, q80] = await Promise.all(
        [30, 80].map((quality) => W300(s).jpeg({ quality, progressive: true }).toBuffer()),
      );
      expect(Math.abs(out.length - q30!.length) / q30!.length).toBeLessThan(0.35);
      expect(out.length).toBeLessThan(0.7 * q80!.length);
    },
  },
  {
    name: 'fmt_png',
    ops: 'w_300-fmt_png',
    ext: 'png',
    transform: { width: 300, format: 'PNG' },
    size: [300, 200],
    format: 'png',
  },
  {
    name: 'fmt_webp',
    ops: 'fmt_webp-w_300',
    ext: 'webp',
    transform: { width: 300, format: 'WEBP' },
    size: [300, 200],
    format: 'webp',
  },
  {
    name: 'fmt_avif',
    ops: 'w_300-fmt_avif',
    ext: 'avif',
    transform: { width: 300, format: 'AVIF' },
    size: [300, 200],
    format: 'avif',
  },
  {
    name: 'fmt_gif',
    ops: 'w_300-fmt_gif',
    ext: 'gif',
    transform: { width: 300, format: 'GIF' },
    size: [300, 200],
    format: 'gif',
  },
  {
    name: 'fmt_jpg',
    ops: 'w_300-fmt_jpeg',
    transform: { width: 300, format: 'JPG' },
    size: [300, 200],
    format: 'jpg',
  },
  {
    name: 'fmt_auto (AVIF for Chromium)',
    ops: 'fmt_auto-w_300',
    transform: { width: 300, format: 'AUTO' },
    size: [300, 200],
    format: 'avif',
    accept: ACCEPT.chromium,
    variantFormat: 'jpg',
  },
  {
    name: 'r_90 turns clockwise',
    ops: 'r_90-w_200',
    transform: { width: 200, rotate: 90 },
    size: [200, 300],
    format: 'jpg',
    check: async (out, s) =>
      expect(
        await meanDifference(out, sharp(await sharp(s.bytes).rotate(90).toBuffer()).resize(200)),
      ).toBeLessThan(SAME),
  },
  {
    name: 'r_180',
    ops: 'w_300-r_180',
    transform: { width: 300, rotate: 180 },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) =>
      expect(await meanDifference(out, sharp(await W300(s).toBuffer()).rotate(180))).toBeLessThan(SAME),
  },
  {
    name: 'r_270',
    ops: 'w_200-r_270',
    transform: { width: 200, rotate: 270 },
    size: [200, 300],
    format: 'jpg',
    check: async (out, s) =>
      expect(
        await meanDifference(out, sharp(await sharp(s.bytes).rotate(270).toBuffer()).resize(200)),
      ).toBeLessThan(SAME),
  },
  {
    name: 'flip mirrors top to bottom',
    ops: 'flip-w_300',
    transform: { width: 300, flip: true },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => {
      expect(await meanDifference(out, sharp(await W300(s).toBuffer()).flip())).toBeLessThan(SAME);
      expect(await meanDifference(out, W300(s))).toBeGreaterThan(2 * SAME);
    },
  },
  {
    name: 'flop mirrors left to right',
    ops: 'w_300-flop',
    transform: { width: 300, flop: true },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => {
      expect(await meanDifference(out, sharp(await W300(s).toBuffer()).flop())).toBeLessThan(SAME);
      expect(await meanDifference(out, W300(s))).toBeGreaterThan(2 * SAME);
    },
  },
  {
    name: 'blur_ softens',
    ops: 'blur_4-w_300',
    transform: { width: 300, blur: 4 },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) =>
      expect(await sharpness(out)).toBeLessThan(0.6 * (await sharpness(await W300(s).jpeg().toBuffer()))),
  },
  {
    name: 'sharpen_ sharpens',
    ops: 'w_300-sharpen_2',
    transform: { width: 300, sharpen: 2 },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) =>
      expect(await sharpness(out)).toBeGreaterThan(
        1.1 * (await sharpness(await W300(s).jpeg({ quality: 80 }).toBuffer())),
      ),
  },
  {
    name: 'bw makes it grey',
    ops: 'w_300-bw',
    transform: { width: 300, grayscale: true },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => {
      expect(await channelSpread(await W300(s).toBuffer())).toBeGreaterThan(3);
      expect(await channelSpread(out)).toBeLessThan(1);
    },
  },
  {
    name: 'dpr_ multiplies the size',
    ops: 'w_150-dpr_2',
    transform: { width: 150, dpr: 2 },
    size: [300, 200],
    format: 'jpg',
  },
  {
    name: 'wm_ draws text in a corner',
    ops: `w_300-wm_${Buffer.from('Tessera ©').toString('base64url')}`,
    transform: { width: 300, watermark: { text: 'Tessera ©' } },
    size: [300, 200],
    format: 'jpg',
    check: async (out, s) => {
      expect(await meanDifference(out, W300(s), { left: 0, top: 0, width: 120, height: 80 })).toBeLessThan(
        SAME,
      );
      expect(
        await meanDifference(out, W300(s), { left: 180, top: 160, width: 120, height: 40 }),
      ).toBeGreaterThan(2 * SAME);
    },
  },
];

function operations(storage: 'local' | 's3'): void {
  let t: TestTessera;
  const assets: Record<'public' | 'private', { view: AssetView; source: Source }> = {} as never;
  /** Canonical ops (with format) of every variant made so far, per asset. */
  const rendered = { public: new Set<string>(), private: new Set<string>() };

  beforeAll(async () => {
    t = await startTestTessera({ storage });
    const publicBytes = fixture('rocket.jpg');
    // The same photograph re-encoded: other bytes, so a second asset in the same space.
    const privateBytes = await sharp(publicBytes).jpeg({ quality: 95 }).toBuffer();
    const [pub, priv] = await Promise.all([
      upload(t, 'rocket.jpg', { bytes: publicBytes }),
      upload(t, 'rocket.jpg', { bytes: privateBytes, filename: 'rocket-private.jpg', access: 'PRIVATE' }),
    ]);
    for (const asset of [pub, priv]) {
      dataOf(
        await t.gql(
          `mutation($id: ID!) { updateAsset(id: $id, input: { focalPoint: { x: 0.97, y: 0.5 } }) { id } }`,
          { id: asset.id },
        ),
      );
    }
    await settle(t);
    assets.public = { view: pub, source: { bytes: publicBytes } };
    assets.private = { view: priv, source: { bytes: privateBytes } };
    expect([pub.width, pub.height, priv.width, priv.height, priv.access]).toEqual([
      640,
      427,
      640,
      427,
      'PRIVATE',
    ]);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  for (const access of ['public', 'private'] as const) {
    for (const c of cases) {
      it(`${access}: ${c.name}`, async () => {
        const { view, source } = assets[access];
        const before = rendersOf(t.tessera);

        // transformAsset renders now (unless an equal transform was rendered before) and says what it made.
        const variant = dataOf(await transformAsset(t, view.id, { transform: c.transform })).transformAsset;
        const made = c.variantFormat ?? c.format;
        expect({ width: variant.width, height: variant.height, format: variant.format }).toEqual({
          width: c.size[0],
          height: c.size[1],
          format: made,
        });
        expect(rendersOf(t.tessera) - before).toBe(rendered[access].has(variant.canonical) ? 0 : 1);
        rendered[access].add(variant.canonical);
        const fromVariant = await fetchImage(variant.url);
        expect(fromVariant.status).toBe(200);
        expect(fromVariant.headers.get('x-cache')).not.toBe('render');
        expect(fromVariant.headers.get('content-type')).toBe(mimeOf(made));
        expect(await imageInfo(fromVariant.body)).toMatchObject({
          format: sharpFormat(made),
          width: c.size[0],
          height: c.size[1],
        });
        if (access === 'private')
          expect(variant.url).toMatch(/\/v1\/priv\/.*\?exp=\d+&kid=\w+&sig=[\w-]{43}$/);

        // Asset.image predicts the size; its URL serves exactly that.
        const image = await imageOf(t, view.id, { transform: c.transform });
        expect([image.width, image.height]).toEqual([...c.size]);
        const headers: Record<string, string> = c.accept ? { accept: c.accept } : {};
        let answer: Fetched;
        if (access === 'public') {
          // The URL as typed answers 301 to the canonical one (Asset.url's), which serves the image.
          const typed = await fetchImage(`${imageBase(t, view)}${c.ops}.${c.ext ?? 'jpg'}`, headers);
          if (typed.status === 301) {
            expect(typed.headers.get('location')).toBe(image.url);
            answer = await fetchImage(image.url, headers);
          } else {
            expect(`${imageBase(t, view)}${c.ops}.${c.ext ?? 'jpg'}`).toBe(image.url);
            answer = typed;
          }
        } else {
          expect(image.url).toMatch(/\/v1\/priv\/.*\?exp=\d+&kid=\w+&sig=[\w-]{43}$/);
          answer = await fetchImage(image.url, headers);
        }
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toBe(mimeOf(c.format));
        expect(await imageInfo(answer.body)).toMatchObject({
          format: sharpFormat(c.format),
          width: c.size[0],
          height: c.size[1],
        });
        if (c.variantFormat === undefined) {
          // The same variant: answered from memory, byte for byte.
          expect(answer.headers.get('x-cache')).toBe('memory');
          expect(answer.body.equals(fromVariant.body)).toBe(true);
        } else {
          const served = new URL(image.url).pathname
            .split('/')
            .at(-1)!
            .replace('fmt_auto', `fmt_${c.format}`)
            .replace(/\.\w+$/, '');
          expect(answer.headers.get('x-cache')).toBe(rendered[access].has(served) ? 'memory' : 'render');
          rendered[access].add(served);
        }
        await c.check?.(answer.body, source);
        expect(rendersOf(t.tessera) - before).toBeLessThanOrEqual(c.variantFormat === undefined ? 1 : 2);
      });
    }
  }
}

describeWith([], 'every operation on local disk', () => operations('local'));
describeWith(['s3'], 'every operation on S3', () => operations('s3'));

/**
 * Sizes predicted for what is not a plain landscape JPEG: asked larger than the photograph, stored
 * sideways with an EXIF orientation, with alpha, animated.
 */
describeWith([], 'predicted sizes of other photographs', () => {
  let t: TestTessera;
  const photos: Record<'rocket' | 'sideways' | 'cutout' | 'animation', AssetView> = {} as never;
  let frames: number;

  beforeAll(async () => {
    t = await startTestTessera();
    const rocket = fixture('rocket.jpg');
    // Stored turned a quarter to the left, with the EXIF orientation (6) that turns it back.
    const sideways = await sharp(rocket)
      .rotate(270)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect(await sharp(sideways).metadata()).toMatchObject({ width: 427, height: 640, orientation: 6 });
    // The cat in a transparent round cut-out: transparent corners.
    const circle = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><circle cx="150" cy="150" r="140" fill="#fff"/></svg>',
    );
    const cutout = await sharp(fixture('chelsea.png'))
      .resize(300, 300)
      .ensureAlpha()
      .composite([{ input: circle, blend: 'dest-in' }])
      .png()
      .toBuffer();
    frames = (await sharp(fixture('no_time_for_that_tiny.gif')).metadata()).pages ?? 1;
    expect(frames).toBeGreaterThan(1);
    [photos.rocket, photos.sideways, photos.cutout, photos.animation] = await Promise.all([
      upload(t, 'rocket.jpg'),
      upload(t, 'rocket.jpg', { bytes: sideways, filename: 'sideways.jpg' }),
      upload(t, 'chelsea.png', { bytes: cutout, filename: 'cutout.png' }),
      upload(t, 'no_time_for_that_tiny.gif'),
    ]);
    expect([photos.sideways.width, photos.sideways.height, photos.sideways.orientation]).toEqual([
      640, 427, 6,
    ]);
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const cases: [
    string,
    'rocket' | 'sideways' | 'cutout' | 'animation',
    Record<string, unknown>,
    [number, number],
    string,
    ((out: Buffer) => Promise<void>)?,
  ][] = [
    ['w_ wider than the photograph is not enlarged', 'rocket', { width: 1000 }, [640, 427], 'jpeg'],
    ['h_ taller than the photograph is not enlarged', 'rocket', { height: 1000 }, [640, 427], 'jpeg'],
    [
      'a cover box larger than the photograph is filled',
      'rocket',
      { width: 1000, height: 1000 },
      [1000, 1000],
      'jpeg',
    ],
    [
      'a larger inside box does not enlarge',
      'rocket',
      { width: 1000, height: 1000, fit: 'INSIDE' },
      [640, 427],
      'jpeg',
    ],
    [
      'a larger outside box does not enlarge',
      'rocket',
      { width: 1000, height: 1000, fit: 'OUTSIDE' },
      [640, 427],
      'jpeg',
    ],
    [
      'a larger pad box pads around the photograph',
      'rocket',
      { width: 1000, height: 1000, fit: 'PAD' },
      [1000, 1000],
      'jpeg',
    ],
    [
      'a sideways-stored photograph comes out upright',
      'sideways',
      { width: 300 },
      [300, 200],
      'jpeg',
      async (out) =>
        expect(await meanDifference(out, sharp(fixture('rocket.jpg')).resize(300))).toBeLessThan(SAME),
    ],
    [
      'a crop of a sideways-stored photograph is in upright coordinates',
      'sideways',
      { crop: { x: 100, y: 50, width: 300, height: 200 } },
      [300, 200],
      'jpeg',
      async (out) =>
        expect(
          await meanDifference(
            out,
            sharp(fixture('rocket.jpg')).extract({ left: 100, top: 50, width: 300, height: 200 }),
          ),
        ).toBeLessThan(SAME),
    ],
    ['r_90 of a sideways-stored photograph', 'sideways', { width: 200, rotate: 90 }, [200, 300], 'jpeg'],
    [
      'transparency kept in PNG',
      'cutout',
      { width: 200 },
      [200, 200],
      'png',
      async (out) => {
        const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
        expect([info.channels, data[3], data[(100 * 200 + 100) * 4 + 3]]).toEqual([4, 0, 255]);
      },
    ],
    [
      'transparency flattened on white in JPEG',
      'cutout',
      { width: 200, format: 'JPG' },
      [200, 200],
      'jpeg',
      async (out) => expect(Math.min(...(await pixel(out, 1, 1)))).toBeGreaterThan(245),
    ],
    [
      'transparency flattened on b_ in JPEG',
      'cutout',
      { width: 200, format: 'JPG', background: '000000' },
      [200, 200],
      'jpeg',
      async (out) => expect(Math.max(...(await pixel(out, 1, 1)))).toBeLessThan(10),
    ],
    [
      'an animation keeps its frames',
      'animation',
      { width: 10 },
      [10, 18],
      'gif',
      async (out) => expect((await sharp(out).metadata()).pages).toBe(frames),
    ],
    [
      'an animation keeps its frames in WebP',
      'animation',
      { width: 10, format: 'WEBP' },
      [10, 18],
      'webp',
      async (out) => expect((await sharp(out).metadata()).pages).toBe(frames),
    ],
    [
      'an animation as PNG is its first frame',
      'animation',
      { width: 10, format: 'PNG' },
      [10, 18],
      'png',
      async (out) => expect((await sharp(out).metadata()).pages ?? 1).toBe(1),
    ],
  ];
  for (const [name, which, transform, size, format, check] of cases) {
    it(name, async () => {
      const image = await imageOf(t, photos[which].id, { transform });
      expect([image.width, image.height]).toEqual(size);
      const answer = await fetchImage(image.url);
      expect(answer.status).toBe(200);
      expect(await imageInfo(answer.body)).toMatchObject({ format, width: size[0], height: size[1] });
      const variant = dataOf(await transformAsset(t, photos[which].id, { transform })).transformAsset;
      expect([variant.width, variant.height]).toEqual(size);
      await check?.(answer.body);
    });
  }
});
