import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sharp from 'sharp';
import {
  CORNERS,
  FITS,
  GRAVITIES,
  negotiateFormat,
  predictSize,
  OUTPUT_FORMATS,
  type OutputFormat,
} from '../../src/transforms/index.js';
import { probeImage } from '../../src/imaging/probe.js';
import { sourceFacts } from '../../src/media/variants.service.js';
import { fixture } from '../support/fixtures.js';
import { magicFormat, pixelAt, pixels, planOf, render } from './render-support.js';

const rocket = fixture('rocket.jpg'); // 640×427
const chelsea = fixture('chelsea.png'); // 451×300
const ROCKET = { width: 640, height: 427 };

/** The box of pixels that are not the letterbox: alpha > 0 in a PNG with a transparent background. */
async function opaqueBox(
  image: Buffer,
): Promise<{ left: number; top: number; width: number; height: number }> {
  const p = await pixels(image);
  let left = p.width;
  let top = p.height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < p.height; y += 1) {
    for (let x = 0; x < p.width; x += 1) {
      if (pixelAt(p, x, y)[3]! > 0) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

describe('output size: every fit mode, as predicted', () => {
  const cases: [string, { width: number; height: number }][] = [
    ['w_300', { width: 300, height: 200 }],
    ['h_100', { width: 150, height: 100 }],
    ['w_1000', ROCKET], // one side alone never enlarges
    ['w_200-h_200-f_cover', { width: 200, height: 200 }],
    ['w_200-h_200-f_contain', { width: 200, height: 200 }],
    ['w_200-h_200-f_fill', { width: 200, height: 200 }],
    ['w_200-h_200-f_inside', { width: 200, height: 133 }],
    ['w_200-h_200-f_outside', { width: 300, height: 200 }],
    ['w_200-h_200-f_pad', { width: 200, height: 200 }],
    ['w_1000-h_1000-f_pad', { width: 1000, height: 1000 }],
    ['w_1000-h_1000-f_inside', ROCKET], // inside and outside never enlarge
    ['w_1000-h_1000-f_cover', { width: 1000, height: 1000 }], // cover, contain, fill make the box
    ['w_150-dpr_2', { width: 300, height: 200 }],
    ['w_100-h_50-dpr_1.5', { width: 150, height: 75 }],
    ['c_100,50,300,200-w_150', { width: 150, height: 100 }],
    ['c_100,50,300,200', { width: 300, height: 200 }],
    ['r_90', { width: 427, height: 640 }],
    ['r_270-w_100', { width: 100, height: 150 }],
    ['r_180-w_100', { width: 100, height: 67 }],
    ['c_0,0,400,100-r_90-w_50', { width: 50, height: 200 }],
    ['r_90-w_300-h_200-f_cover', { width: 300, height: 200 }], // w and h describe the output, turned or not
    ['r_90-w_300-h_300-f_inside', { width: 200, height: 300 }],
  ];

  it.each(cases)('%s', async (ops, expected) => {
    const out = await render(rocket, ops);
    expect({ width: out.width, height: out.height }).toEqual(expected);
    expect(predictSize(planOf(ops), ROCKET)).toEqual(expected);
    const meta = await sharp(out.data).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual(expected);
    expect(out.bytes).toBe(out.data.length);
  });

  it('contain letterboxes an enlarged image, pad centres the image at its own size', async () => {
    const contain = await render(rocket, 'w_1000-h_1000-f_contain');
    expect(await opaqueBox(contain.data)).toEqual({ left: 0, top: 166, width: 1000, height: 667 });
    const pad = await render(rocket, 'w_1000-h_1000-f_pad');
    expect(await opaqueBox(pad.data)).toEqual({ left: 180, top: 286, width: 640, height: 427 });
    const padSmaller = await render(rocket, 'w_320-h_320-f_pad-g_n');
    expect(await opaqueBox(padSmaller.data)).toEqual({ left: 0, top: 0, width: 320, height: 214 });
    const containSouth = await render(rocket, 'w_200-h_400-f_contain-g_s');
    expect(await opaqueBox(containSouth.data)).toEqual({ left: 0, top: 267, width: 200, height: 133 });
  });

  it('letterboxes with b_, and on white in JPEG', async () => {
    const red = await pixels((await render(rocket, 'w_400-h_400-f_pad-b_ff0000')).data);
    expect(pixelAt(red, 5, 5).slice(0, 3)).toEqual([255, 0, 0]);
    // contain: the bands above and below the image take b_, opaque or translucent
    const green = await pixels((await render(rocket, 'w_300-h_300-f_contain-b_00c040')).data);
    expect(await opaqueBox((await render(rocket, 'w_300-h_300-f_contain')).data)).toEqual({
      left: 0,
      top: 50,
      width: 300,
      height: 200,
    });
    expect(green.channels).toBe(3); // an opaque letterbox on an opaque photograph: no alpha channel
    for (const [x, y] of [
      [0, 0],
      [299, 49],
      [150, 25],
      [0, 250],
      [299, 299],
    ] as const)
      expect(pixelAt(green, x, y)).toEqual([0, 192, 64]);
    expect(pixelAt(green, 150, 150)).not.toEqual([0, 192, 64]);
    const translucent = await pixels((await render(rocket, 'w_300-h_300-f_contain-b_0000ff80')).data);
    expect(pixelAt(translucent, 150, 10)).toEqual([0, 0, 255, 128]);
    const jpegGreen = await pixels((await render(rocket, 'w_300-h_300-f_contain-b_00c040-fmt_jpg')).data);
    const [r, g, b] = pixelAt(jpegGreen, 150, 20);
    expect([r! < 10, Math.abs(g! - 192) < 6, Math.abs(b! - 64) < 6]).toEqual([true, true, true]);
    const jpeg = await pixels((await render(rocket, 'w_400-h_400-f_contain-fmt_jpg')).data);
    for (const v of pixelAt(jpeg, 200, 3)) expect(v).toBeGreaterThan(245);
  });

  it('predicts the size of real renders for random plans, upright or EXIF-oriented sources', async () => {
    // chelsea stored turned, with the EXIF orientation that shows it upright (451×300) again
    const stored = async (orientation: number, angle: number) =>
      sharp(await sharp(chelsea).rotate(angle).toBuffer())
        .withMetadata({ orientation })
        .jpeg()
        .toBuffer();
    const sources = [chelsea, await stored(6, 270), await stored(8, 90), await stored(3, 180)];
    const side = fc.integer({ min: 1, max: 700 });
    const plan = fc.record(
      {
        w: side,
        h: side,
        f: fc.constantFrom('cover', 'contain', 'fill', 'inside', 'outside', 'pad'),
        r: fc.constantFrom(0, 90, 180, 270),
        dpr: fc.constantFrom(1, 1.5, 2, 2.25),
        crop: fc.tuple(
          fc.nat(300),
          fc.nat(200),
          fc.integer({ min: 1, max: 151 }),
          fc.integer({ min: 1, max: 100 }),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(plan, fc.nat(sources.length - 1), async (p, source) => {
        const tokens = [
          p.crop ? `c_${p.crop.join(',')}` : '',
          p.w ? `w_${p.w}` : '',
          p.h ? `h_${p.h}` : '',
          p.f ? `f_${p.f}` : '',
          p.r ? `r_${p.r}` : '',
          p.dpr ? `dpr_${p.dpr}` : '',
        ].filter(Boolean);
        if (tokens.length === 0) return;
        const ops = tokens.join('-');
        const out = await render(sources[source]!, ops, { format: 'jpg' });
        const predicted = predictSize(planOf(ops), { width: 451, height: 300 });
        expect({ ops, source, width: out.width, height: out.height }).toEqual({ ops, source, ...predicted });
        const meta = await sharp(out.data).metadata();
        expect({ ops, source, width: meta.width, height: meta.height }).toEqual({
          ops,
          source,
          ...predicted,
        });
      }),
      { numRuns: 120 },
    );
  });
});

describe('output format', () => {
  const SHARP_NAME: Record<OutputFormat, string> = {
    jpg: 'jpeg',
    png: 'png',
    webp: 'webp',
    avif: 'heif',
    gif: 'gif',
  };

  it.each(OUTPUT_FORMATS)('%s: magic bytes and decoder agree', async (format) => {
    const out = await render(rocket, `w_160-fmt_${format}`);
    expect(out.format).toBe(format);
    expect(magicFormat(out.data)).toBe(format);
    const meta = await sharp(out.data).metadata();
    expect(meta.format).toBe(SHARP_NAME[format]);
    if (format === 'avif') expect(meta.compression).toBe('av1');
    expect(meta.width).toBe(160);
  });

  it('fmt_auto: renders what negotiation picked', async () => {
    const chromium = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
    const safari14 = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
    const photo = negotiateFormat(chromium, { hasAlpha: false, animated: false });
    expect(magicFormat((await render(rocket, 'w_100-fmt_auto', { format: photo })).data)).toBe('avif');
    const logoFormat = negotiateFormat(safari14, { hasAlpha: true, animated: false });
    const logo = await render(fixture('logo.png'), 'w_100-fmt_auto', { format: logoFormat });
    expect(magicFormat(logo.data)).toBe('png');
    expect((await sharp(logo.data).metadata()).hasAlpha).toBe(true);
  });

  it('quality: lower is smaller; PNG is lossless unless a quality asks for a palette', async () => {
    const q30 = await render(rocket, 'w_400-q_30-fmt_jpg');
    const q90 = await render(rocket, 'w_400-q_90-fmt_jpg');
    expect(q30.bytes).toBeLessThan(q90.bytes * 0.6);
    const webp30 = await render(rocket, 'w_400-q_30-fmt_webp');
    const webpAuto = await render(rocket, 'w_400-fmt_webp');
    expect(webp30.bytes).toBeLessThan(webpAuto.bytes);

    const lossless = await render(chelsea, 'fmt_png');
    expect(await pixels(lossless.data)).toEqual(await pixels(chelsea));
    const palette = await render(chelsea, 'q_60-fmt_png');
    expect((await sharp(palette.data).metadata()).isPalette).toBe(true);
    expect(palette.bytes).toBeLessThan(lossless.bytes);
  });

  it('dpr: w_150-dpr_2 is the same image as w_300', async () => {
    const a = await render(rocket, 'w_150-dpr_2');
    const b = await render(rocket, 'w_300');
    expect(a.data.equals(b.data)).toBe(true);
  });
});

describe('any plan', () => {
  it('renders on a still, a transparent, an EXIF-oriented and an animated source to its predicted size, in its format', async () => {
    const photo = await sharp(chelsea).resize(120).toBuffer(); // 120×80
    const sources: {
      name: string;
      data: Buffer;
      size: { width: number; height: number };
      animated: boolean;
    }[] = [
      { name: 'photo', data: photo, size: { width: 120, height: 80 }, animated: false },
      {
        name: 'logo',
        data: await sharp(fixture('logo.png')).resize(100, 100, { fit: 'fill' }).toBuffer(),
        size: { width: 100, height: 100 },
        animated: false,
      },
      {
        name: 'exif',
        data: await sharp(await sharp(photo).rotate(90).toBuffer())
          .withMetadata({ orientation: 8 })
          .jpeg()
          .toBuffer(),
        size: { width: 120, height: 80 },
        animated: false,
      },
      {
        name: 'gif',
        data: fixture('no_time_for_that_tiny.gif'),
        size: { width: 14, height: 25 },
        animated: true,
      },
    ];
    const SHARP_NAME: Record<OutputFormat, string> = {
      jpg: 'jpeg',
      png: 'png',
      webp: 'webp',
      avif: 'heif',
      gif: 'gif',
    };
    const fraction = fc.double({ min: 0, max: 1, noNaN: true });
    const arb = fc.record({
      source: fc.nat(sources.length - 1),
      crop: fc.option(fc.tuple(fraction, fraction, fraction, fraction)),
      w: fc.option(fc.integer({ min: 1, max: 300 })),
      h: fc.option(fc.integer({ min: 1, max: 300 })),
      f: fc.option(fc.constantFrom(...FITS)),
      g: fc.option(fc.constantFrom(...GRAVITIES)),
      b: fc.option(fc.constantFrom('c04000', '0080ff80')),
      r: fc.option(fc.constantFrom(90, 180, 270)),
      flip: fc.boolean(),
      flop: fc.boolean(),
      blur: fc.option(fc.constantFrom(0.5, 2)),
      sharpen: fc.option(fc.constant(1)),
      bw: fc.boolean(),
      dpr: fc.option(fc.constantFrom(1.5, 2)),
      q: fc.option(fc.integer({ min: 1, max: 100 })),
      fmt: fc.constantFrom(...OUTPUT_FORMATS),
      wm: fc.option(fc.constantFrom(...CORNERS)),
      focal: fc.option(fc.record({ x: fraction, y: fraction })),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (p) => {
        const source = sources[p.source]!;
        const { width: sw, height: sh } = source.size;
        const tokens: string[] = [];
        if (p.crop) {
          const x = Math.min(sw - 1, Math.floor(p.crop[0] * sw));
          const y = Math.min(sh - 1, Math.floor(p.crop[1] * sh));
          tokens.push(
            `c_${x},${y},${1 + Math.floor(p.crop[2] * (sw - x - 1))},${1 + Math.floor(p.crop[3] * (sh - y - 1))}`,
          );
        }
        const tokenOf: [unknown, string][] = [
          [p.w, `w_${p.w}`],
          [p.h, `h_${p.h}`],
          [p.f, `f_${p.f}`],
          [p.g, `g_${p.g}`],
          [p.b, `b_${p.b}`],
          [p.r, `r_${p.r}`],
          [p.flip, 'flip'],
          [p.flop, 'flop'],
          [p.blur, `blur_${p.blur}`],
          [p.sharpen, `sharpen_${p.sharpen}`],
          [p.bw, 'bw'],
          [p.dpr, `dpr_${p.dpr}`],
          [p.q, `q_${p.q}`],
          [true, `fmt_${p.fmt}`],
          [p.wm, `wm_${Buffer.from('Tessera').toString('base64url')},${p.wm}`],
        ];
        for (const [present, token] of tokenOf) if (present) tokens.push(token);
        const ops = tokens.join('-');
        const out = await render(source.data, ops, { focalPoint: p.focal });
        const predicted = predictSize(planOf(ops), source.size);
        const meta = await sharp(out.data, { animated: true }).metadata();
        const animated = source.animated && (p.fmt === 'gif' || p.fmt === 'webp');
        expect({
          source: source.name,
          ops,
          width: out.width,
          height: out.height,
          magic: magicFormat(out.data),
          format: meta.format,
        }).toEqual({
          source: source.name,
          ops,
          ...predicted,
          magic: p.fmt,
          format: SHARP_NAME[p.fmt],
        });
        expect([meta.width, meta.pageHeight ?? meta.height, meta.pages ?? 1, meta.exif]).toEqual([
          predicted.width,
          predicted.height,
          out.frames,
          undefined,
        ]);
        if (!animated) expect(out.frames).toBe(1);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the source as probed on upload', () => {
  it('renders the same bytes from the probed facts as from reading the header, for any plan', async () => {
    const photo = await sharp(chelsea).resize(160).jpeg().toBuffer();
    const turned = (orientation: number, angle: number) =>
      sharp(photo)
        .rotate(angle)
        .toBuffer()
        .then((upright) => sharp(upright).withMetadata({ orientation }).jpeg().toBuffer());
    const sources = [
      photo,
      await turned(6, 270),
      await turned(8, 90),
      await turned(3, 180),
      await sharp(fixture('logo.png')).resize(90).toBuffer(), // alpha
      fixture('no_time_for_that_tiny.gif'), // animated: still formats get its first frame
    ];
    const facts = await Promise.all(
      sources.map(async (data) =>
        sourceFacts(await probeImage(data, { maxInputPixels: 100_000_000, keepGps: false })),
      ),
    );
    const plan = fc.record({
      source: fc.nat(sources.length - 1),
      w: fc.option(fc.integer({ min: 1, max: 240 }), { nil: undefined }),
      h: fc.option(fc.integer({ min: 1, max: 240 }), { nil: undefined }),
      f: fc.constantFrom(...FITS),
      r: fc.constantFrom(0, 90, 180, 270),
      fmt: fc.constantFrom<OutputFormat>('jpg', 'png', 'webp', 'gif'),
    });
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const ops = [
          p.w === undefined ? '' : `w_${p.w}`,
          p.h === undefined ? '' : `h_${p.h}`,
          `f_${p.f}`,
          p.r === 0 ? '' : `r_${p.r}`,
          `fmt_${p.fmt}`,
        ]
          .filter((t) => t !== '')
          .join('-');
        const [read, known] = await Promise.all([
          render(sources[p.source]!, ops),
          render(sources[p.source]!, ops, { source: facts[p.source] }),
        ]);
        expect([known.width, known.height, known.frames]).toEqual([read.width, read.height, read.frames]);
        expect(known.data.equals(read.data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
