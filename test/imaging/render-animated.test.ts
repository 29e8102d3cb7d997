import { describe, expect, it } from '@jest/globals';
import sharp, { type Sharp } from 'sharp';
import { fixture } from '../support/fixtures.js';
import { meanDiff, pixels, render, type Pixels } from './render-support.js';

const gif = fixture('no_time_for_that_tiny.gif'); // 14×25, 24 frames of 70 ms, loops forever
const FRAMES = 24;

/** Frame `i` of an animation, as RGBA pixels. */
async function frame(image: Buffer, i: number): Promise<Pixels> {
  const { data, info } = await sharp(image, { page: i })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Frame `i` of the source with `ops` applied to it alone, as a still PNG. */
async function expectedFrame(ops: (image: Sharp) => Sharp, i: number): Promise<Pixels> {
  const still = await sharp(gif, { page: i }).png().toBuffer();
  const { data, info } = await ops(sharp(still)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('animations', () => {
  it('the fixture is what the tests expect', async () => {
    const meta = await sharp(gif, { animated: true }).metadata();
    expect([meta.width, meta.pageHeight, meta.pages, meta.loop]).toEqual([14, 25, FRAMES, 0]);
    expect(meta.delay).toEqual(Array(FRAMES).fill(70));
  });

  it.each(['gif', 'webp'] as const)(
    'keep every frame, delay and loop through a resize to %s',
    async (format) => {
      const out = await render(gif, `w_28-h_50-f_fill-fmt_${format}`);
      expect([out.width, out.height, out.frames]).toEqual([28, 50, FRAMES]);
      const meta = await sharp(out.data, { animated: true }).metadata();
      expect(meta.format).toBe(format);
      expect([meta.width, meta.pageHeight ?? meta.height / FRAMES, meta.pages, meta.loop]).toEqual([
        28,
        50,
        FRAMES,
        0,
      ]);
      expect(meta.delay).toEqual(Array(FRAMES).fill(70));
    },
  );

  it('become one still frame in JPEG, PNG and AVIF', async () => {
    for (const format of ['jpg', 'png', 'avif'] as const) {
      const out = await render(gif, `w_28-fmt_${format}`);
      expect(out.frames).toBe(1);
      const meta = await sharp(out.data).metadata();
      expect(meta.pages ?? 1).toBe(1);
      expect([meta.width, meta.height]).toEqual([14, 25]);
    }
  });

  it('turn, mirror and blur each frame in place: the animation does not play backwards', async () => {
    const cases: [string, (image: Sharp) => Sharp, [number, number]][] = [
      ['flip', (s) => s.flip(), [14, 25]],
      ['flop', (s) => s.flop(), [14, 25]],
      ['r_180', (s) => s.rotate(180), [14, 25]],
      ['r_90', (s) => s.rotate(90), [25, 14]],
      ['r_270-flip', (s) => s.rotate(270).flop(), [25, 14]], // mirror after a quarter turn: the other axis before it
    ];
    for (const [ops, still, [width, height]] of cases) {
      const out = await render(gif, `${ops}-fmt_gif`);
      expect([ops, out.width, out.height, out.frames]).toEqual([ops, width, height, FRAMES]);
      for (const i of [0, 5, 17, 23]) {
        const got = await frame(out.data, i);
        // the same frame, turned alone (GIF re-quantises colours: near, not exact)…
        expect(meanDiff(got, await expectedFrame(still, i))).toBeLessThan(4);
        // …and not the frame from the other end
        expect(meanDiff(got, await expectedFrame(still, FRAMES - 1 - i))).toBeGreaterThan(
          meanDiff(got, await expectedFrame(still, i)),
        );
      }
    }
  });

  it('blur keeps frames apart (no bleeding from one frame into the next)', async () => {
    const out = await render(gif, 'blur_2-fmt_gif');
    expect(out.frames).toBe(FRAMES);
    for (const i of [0, 12]) {
      const expected = await expectedFrame((s) => s.blur(2), i);
      expect(meanDiff(await frame(out.data, i), expected)).toBeLessThan(6);
    }
  });

  it('count the frames written: frames that do not change are merged, the duration kept', async () => {
    // the top-left corner of the fixture never changes: one frame showing for the whole 24 × 70 ms
    const corner = await render(gif, 'c_0,0,3,3-fmt_gif');
    const meta = await sharp(corner.data, { animated: true }).metadata();
    expect([corner.frames, meta.pages ?? 1]).toEqual([1, 1]);
    expect(meta.delay).toEqual([FRAMES * 70]);
    // lossy WebP merges frames that blur made nearly alike, still playing 24 × 70 ms
    const blurred = await render(gif, 'blur_2-fmt_webp');
    const webp = await sharp(blurred.data, { animated: true }).metadata();
    expect(blurred.frames).toBe(webp.pages);
    expect(blurred.frames).toBeGreaterThan(1);
    expect(webp.delay?.reduce((a, b) => a + b, 0)).toBe(FRAMES * 70);
  });

  it('carry the watermark on every frame', async () => {
    const text = Buffer.from('WM').toString('base64url');
    const plain = await render(gif, 'w_140-h_250-f_fill-fmt_webp');
    const marked = await render(gif, `w_140-h_250-f_fill-fmt_webp-wm_${text}`);
    expect(marked.frames).toBe(FRAMES);
    for (const i of [0, 11, 23]) {
      const a = await frame(plain.data, i);
      const b = await frame(marked.data, i);
      expect(meanDiff(a, b, { left: 100, top: 230, width: 40, height: 20 })).toBeGreaterThan(5);
      expect(meanDiff(a, b, { left: 0, top: 0, width: 70, height: 100 })).toBeLessThan(1);
    }
  });

  it('keep a steady crop: attention and entropy keep the centre on animations', async () => {
    const attention = await render(gif, 'w_10-h_10-g_attention-fmt_gif');
    const centre = await render(gif, 'w_10-h_10-fmt_gif');
    expect(attention.frames).toBe(FRAMES);
    expect(attention.data.equals(centre.data)).toBe(true);
  });

  it('crop and letterbox every frame alike', async () => {
    const out = await render(gif, 'c_2,5,10,10-w_20-h_40-f_pad-fmt_gif');
    expect([out.width, out.height, out.frames]).toEqual([20, 40, FRAMES]);
    const first = await pixels(out.data, 0);
    const last = await pixels(out.data, FRAMES - 1);
    // transparent letterbox above and below the 10×10 crop on each frame
    expect(first.data[3]).toBe(0);
    expect(last.data[(39 * 20 + 19) * last.channels + 3]).toBe(0);
  });
});
