import { beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { markedRocket, meanDiff, pixelAt, pixels, redCorners, render } from './render-support.js';

let marked: Buffer; // rocket.jpg, 640×427, red 80×80 square in the top-left corner

beforeAll(async () => {
  marked = await markedRocket();
});

describe('turns and mirrors', () => {
  // Rotation is clockwise, after the crop and before the resize; mirrors apply to the turned image.
  const cases: [string, string[]][] = [
    ['fmt_png', ['nw']],
    ['r_90', ['ne']],
    ['r_180', ['se']],
    ['r_270', ['sw']],
    ['flip', ['sw']],
    ['flop', ['ne']],
    ['flip-flop', ['se']],
    ['r_90-flip', ['se']],
    ['r_90-flop', ['nw']],
    ['r_270-flip', ['nw']],
    ['r_270-flop', ['se']],
    ['r_180-flip', ['ne']],
    ['r_90-w_200', ['ne']],
    ['r_90-flip-w_100-h_100-f_fill', ['se']],
  ];

  it.each(cases)('%s puts the red corner at %j', async (ops, corners) => {
    expect(await redCorners((await render(marked, ops)).data)).toEqual(corners);
  });

  it('mirrors before the cover crop, so gravity names a side of the mirrored image', async () => {
    // flop moves the red square to the right; cover keeping the east side keeps it
    expect(await redCorners((await render(marked, 'w_200-h_200-g_e-flop')).data)).toEqual(['ne']);
    expect(await redCorners((await render(marked, 'w_200-h_200-g_w-flop')).data)).toEqual([]);
    // a tall crop with the square at its top: flip moves it down, north keeps the (new) top
    expect(await redCorners((await render(marked, 'c_0,0,160,320-w_100-h_100-g_n-flip')).data)).toEqual([]);
    expect(await redCorners((await render(marked, 'c_0,0,160,320-w_100-h_100-g_s-flip')).data)).toEqual([
      'sw',
    ]);
    // after a quarter turn the square is at the top right of a portrait image
    expect(await redCorners((await render(marked, 'r_90-w_200-h_200-g_n')).data)).toEqual(['ne']);
    expect(await redCorners((await render(marked, 'r_90-w_200-h_200-g_s')).data)).toEqual([]);
  });

  it('turns each pixel exactly (r_90 four times is the original)', async () => {
    let image = marked;
    for (let i = 0; i < 4; i += 1) image = (await render(image, 'r_90')).data;
    expect(await pixels(image)).toEqual(await pixels(marked));
  });
});

describe('crop', () => {
  it('takes exactly the source pixels asked for', async () => {
    const square = await pixels((await render(marked, 'c_0,0,80,80')).data);
    expect([square.width, square.height]).toEqual([80, 80]);
    for (const [x, y] of [
      [0, 0],
      [79, 0],
      [0, 79],
      [79, 79],
      [40, 40],
    ] as const)
      expect(pixelAt(square, x, y).slice(0, 3)).toEqual([255, 0, 0]);

    const region = await pixels((await render(fixture('chelsea.png'), 'c_100,50,200,120')).data);
    const expected = await pixels(
      await sharp(fixture('chelsea.png'))
        .extract({ left: 100, top: 50, width: 200, height: 120 })
        .png()
        .toBuffer(),
    );
    expect(region).toEqual(expected);
  });

  it('crops before resizing, in source pixels', async () => {
    const out = await render(marked, 'c_0,0,160,160-w_40');
    expect([out.width, out.height]).toEqual([40, 40]);
    expect(await redCorners(out.data)).toEqual(['nw']);
    // the square is half the crop's side: 20 px of the 40
    const p = await pixels(out.data);
    const red = (px: number[]) => px[0]! > 240 && px[1]! < 15 && px[2]! < 15;
    expect(red(pixelAt(p, 17, 17))).toBe(true);
    expect(red(pixelAt(p, 30, 30))).toBe(false);
  });
});

describe('gravity', () => {
  it('attention finds the subject of Dragonfly_by_Bolly.jpg, away from the centre', async () => {
    const dragonfly = fixture('Dragonfly_by_Bolly.jpg'); // 4224×3168
    const centre = await render(dragonfly, 'w_300-h_100-g_center');
    const attention = await render(dragonfly, 'w_300-h_100-g_attention');
    const north = await render(dragonfly, 'w_300-h_100-g_n');
    const south = await render(dragonfly, 'w_300-h_100-g_s');
    const a = await pixels(attention.data);
    // a different strip from the centre one…
    expect(meanDiff(a, await pixels(centre.data))).toBeGreaterThan(10);
    // …and one of the real crops of the image: matching no fixed side either
    expect(meanDiff(a, await pixels(north.data))).toBeGreaterThan(10);
    expect(meanDiff(a, await pixels(south.data))).toBeGreaterThan(10);
    expect([attention.width, attention.height]).toEqual([300, 100]);
  });

  it('entropy picks a busier crop than a flat sky', async () => {
    const out = await render(fixture('rocket.jpg'), 'w_100-h_100-g_entropy');
    expect([out.width, out.height]).toEqual([100, 100]);
    const stats = await sharp(out.data).stats();
    expect(stats.entropy).toBeGreaterThan(4);
  });

  it('focal follows the asset focal point, and is the centre without one', async () => {
    const corner = { x: 0.05, y: 0.05 }; // inside the red square
    expect(
      await redCorners((await render(marked, 'w_100-h_100-g_focal', { focalPoint: corner })).data),
    ).toEqual(['nw']);
    const noPoint = await render(marked, 'w_100-h_100-g_focal');
    const centre = await render(marked, 'w_100-h_100');
    expect(noPoint.data.equals(centre.data)).toBe(true);
    // the point moves with the crop, the turn and the mirror
    expect(
      await redCorners((await render(marked, 'w_100-h_100-g_focal-flop', { focalPoint: corner })).data),
    ).toEqual(['ne']);
    expect(
      await redCorners((await render(marked, 'r_90-w_100-h_100-g_focal', { focalPoint: corner })).data),
    ).toEqual(['ne']);
    expect(
      await redCorners(
        (await render(marked, 'c_0,0,400,200-w_50-h_50-g_focal', { focalPoint: corner })).data,
      ),
    ).toEqual(['nw']);
    // a point far to the right keeps the right of the image: no red
    expect(
      await redCorners(
        (await render(marked, 'w_100-h_100-g_focal', { focalPoint: { x: 0.95, y: 0.5 } })).data,
      ),
    ).toEqual([]);
  });
});

describe('filters', () => {
  it('bw: every pixel grey, the source is not', async () => {
    const source = await sharp(fixture('chelsea.png')).stats();
    const means = source.channels.slice(0, 3).map((c) => c.mean);
    expect(Math.max(...means) - Math.min(...means)).toBeGreaterThan(10);

    for (const format of ['png', 'jpg', 'webp'] as const) {
      const out = await render(fixture('chelsea.png'), `w_200-bw-fmt_${format}`);
      const p = await pixels(out.data);
      let spread = 0;
      for (let i = 0; i < p.data.length; i += p.channels) {
        spread = Math.max(
          spread,
          Math.abs(p.data[i]! - p.data[i + 1]!),
          Math.abs(p.data[i + 1]! - p.data[i + 2]!),
        );
      }
      expect(spread).toBeLessThanOrEqual(format === 'png' ? 0 : 2);
      // and by channel statistics: the three colour channels alike (a grey PNG has one channel)
      const stats = await sharp(out.data).stats();
      const channels = stats.channels.slice(0, Math.min(3, stats.channels.length));
      const outMeans = channels.map((c) => c.mean);
      expect(Math.max(...outMeans) - Math.min(...outMeans)).toBeLessThan(1);
      expect(
        Math.max(...channels.map((c) => c.stdev)) - Math.min(...channels.map((c) => c.stdev)),
      ).toBeLessThan(1);
    }
  });

  it('blur smooths, sharpen adds edges', async () => {
    const chelsea = fixture('chelsea.png');
    const plain = await sharp((await render(chelsea, 'w_200')).data).stats();
    const blurred = await sharp((await render(chelsea, 'w_200-blur_3')).data).stats();
    const sharpened = await sharp((await render(chelsea, 'w_200-sharpen_2')).data).stats();
    expect(blurred.sharpness).toBeLessThan(plain.sharpness * 0.7);
    expect(sharpened.sharpness).toBeGreaterThan(plain.sharpness * 1.1);
  });
});

describe('watermark', () => {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

  it.each(['se', 'nw', 'ne', 'sw'] as const)('%s: visible in that corner, nowhere else', async (corner) => {
    const plain = await pixels((await render(fixture('rocket.jpg'), 'w_400')).data);
    const marked = await pixels(
      (await render(fixture('rocket.jpg'), `w_400-wm_${b64('© Tessera')},${corner}`)).data,
    );
    expect(marked.channels).toBe(3);
    const w = plain.width;
    const h = plain.height;
    const quadrant = (name: string) => ({
      left: name.endsWith('w') ? 0 : w / 2,
      top: name.startsWith('n') ? 0 : Math.floor(h / 2),
      width: w / 2,
      height: Math.floor(h / 2),
    });
    expect(meanDiff(plain, marked, quadrant(corner))).toBeGreaterThan(3);
    for (const other of ['se', 'nw', 'ne', 'sw'].filter((c) => c !== corner))
      expect(meanDiff(plain, marked, quadrant(other))).toBe(0);
  });

  it('draws white and dark pixels (readable on any photograph), sized to the output', async () => {
    const out = await render(fixture('rocket.jpg'), `w_600-wm_${b64('TESSERA')}`);
    const plain = await pixels((await render(fixture('rocket.jpg'), 'w_600')).data);
    const p = await pixels(out.data);
    let white = 0;
    let changed = 0;
    for (let i = 0; i < p.data.length; i += p.channels) {
      if (p.data[i] !== plain.data[i] || p.data[i + 1] !== plain.data[i + 1]) changed += 1;
      if (p.data[i]! > 235 && p.data[i + 1]! > 235 && p.data[i + 2]! > 235 && plain.data[i]! < 200)
        white += 1;
    }
    expect(white).toBeGreaterThan(200);
    // a watermark, not a cover: well under a tenth of the image
    expect(changed / (p.width * p.height)).toBeLessThan(0.1);
  });

  it('long and non-Latin text stays inside a small image', async () => {
    const out = await render(
      fixture('chelsea.png'),
      `w_120-wm_${b64('観測所 — a long credit line for a photograph, 2026')}`,
    );
    expect([out.width, out.height]).toEqual([120, 80]);
    const plain = await pixels((await render(fixture('chelsea.png'), 'w_120')).data);
    expect(meanDiff(plain, await pixels(out.data))).toBeGreaterThan(0.3);
  });

  it('escapes markup in the text', async () => {
    const out = await render(fixture('chelsea.png'), `w_200-wm_${b64('<b>&"\'</b>')}`);
    expect(out.width).toBe(200);
  });
});

describe('orientation, metadata and colour', () => {
  it('an EXIF-rotated photograph comes out upright', async () => {
    // the marked photograph stored turned a quarter anticlockwise, with orientation 6 ("turn 90° clockwise to view")
    const stored = await sharp(await sharp(marked).rotate(270).toBuffer())
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const storedMeta = await sharp(stored).metadata();
    expect([storedMeta.width, storedMeta.height, storedMeta.orientation]).toEqual([427, 640, 6]);

    const out = await render(stored, 'w_320');
    expect([out.width, out.height]).toEqual([320, 214]);
    expect(await redCorners(out.data)).toEqual(['nw']);
    // the same picture as the upright source gives (up to one JPEG generation), not a turned one
    const upright = await pixels((await render(marked, 'w_320-fmt_jpg')).data);
    expect(meanDiff(upright, await pixels((await render(stored, 'w_320-fmt_jpg')).data))).toBeLessThan(3);
    expect((await sharp(out.data).metadata()).orientation).toBeUndefined();
    // crop coordinates are those of the upright image
    expect(await redCorners((await render(stored, 'c_10,10,60,60')).data)).toEqual(['nw', 'ne', 'sw', 'se']);
    // and so is the size used for the limits and predictions
    expect((await render(stored, 'r_90')).width).toBe(427);
  });

  it('strips EXIF, XMP and ICC from every format', async () => {
    const hubble = fixture('hubble_deep_field.jpg');
    expect((await sharp(hubble).metadata()).exif).toBeDefined();
    for (const format of ['jpg', 'png', 'webp', 'avif'] as const) {
      const meta = await sharp((await render(hubble, `w_200-fmt_${format}`)).data).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
    }
  });

  it('converts CMYK to sRGB', async () => {
    const cmyk = await sharp(fixture('rocket.jpg')).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const out = await render(cmyk, 'w_200-fmt_jpg');
    const meta = await sharp(out.data).metadata();
    expect(meta.space).toBe('srgb');
    expect(meta.channels).toBe(3);
    const reference = await pixels((await render(fixture('rocket.jpg'), 'w_200-fmt_jpg')).data);
    expect(meanDiff(reference, await pixels(out.data))).toBeLessThan(20);
  });

  it('flattens alpha on white in JPEG, or on b_', async () => {
    // the cat in the middle of a transparent 200×200 square
    const cat = await sharp(fixture('chelsea.png')).resize(100, 100).toBuffer();
    const logo = await sharp({
      create: { width: 200, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .composite([{ input: cat, left: 50, top: 50 }])
      .png()
      .toBuffer();
    const png = await pixels((await render(logo, 'w_100-fmt_png')).data);
    expect(pixelAt(png, 1, 1)[3]).toBe(0);
    const jpg = await pixels((await render(logo, 'w_100-fmt_jpg')).data);
    for (const v of pixelAt(jpg, 1, 1)) expect(v).toBeGreaterThan(245);
    const black = await pixels((await render(logo, 'w_100-b_000000-fmt_jpg')).data);
    for (const v of pixelAt(black, 1, 1)) expect(v).toBeLessThan(10);
  });
});
