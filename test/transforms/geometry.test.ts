import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cropInside, predictSize, preResizeSize, widthLadder } from '../../src/transforms/index.js';

describe('width ladder', () => {
  it('gives 16 even widths from 64 to 3840, each about 31% wider than the last', () => {
    const widths = widthLadder();
    expect(widths).toHaveLength(16);
    expect(widths[0]).toBe(64);
    expect(widths.at(-1)).toBe(3840);
    for (const w of widths) expect(w % 2).toBe(0);
    for (let i = 1; i < widths.length; i += 1) {
      const step = widths[i]! / widths[i - 1]!;
      expect(step).toBeGreaterThan(1.29);
      expect(step).toBeLessThan(1.34);
    }
  });

  it('a ladder of one width is its smallest', () => {
    expect(widthLadder(320, 1280, 1)).toEqual([320]);
    expect(widthLadder(320, 1280, 2)).toEqual([320, 1280]);
  });

  it('never repeats a width, and stays within its bounds, for any range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1000 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 1, max: 40 }),
        (min, extra, count) => {
          const widths = widthLadder(min, min + extra, count);
          expect(new Set(widths).size).toBe(widths.length);
          expect(widths.length).toBeLessThanOrEqual(count);
          expect(widths).toEqual([...widths].sort((a, b) => a - b));
          for (const w of widths) {
            expect(w).toBeGreaterThanOrEqual(min - 1);
            expect(w).toBeLessThanOrEqual(min + extra + 1);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('crop and pre-resize size', () => {
  it('a crop is inside when it ends at the edge, not past it', () => {
    const source = { width: 640, height: 427 };
    expect(cropInside({ x: 0, y: 0, width: 640, height: 427 }, source)).toBe(true);
    expect(cropInside({ x: 600, y: 400, width: 40, height: 27 }, source)).toBe(true);
    expect(cropInside({ x: 600, y: 400, width: 41, height: 27 }, source)).toBe(false);
    expect(cropInside({ x: 0, y: 427, width: 1, height: 1 }, source)).toBe(false);
  });

  it('turns the cropped size by a quarter turn', () => {
    const source = { width: 640, height: 427 };
    expect(preResizeSize({}, source)).toEqual(source);
    expect(preResizeSize({ rotate: 90 }, source)).toEqual({ width: 427, height: 640 });
    expect(preResizeSize({ rotate: 180 }, source)).toEqual(source);
    expect(preResizeSize({ crop: { x: 1, y: 2, width: 300, height: 100 }, rotate: 270 }, source)).toEqual({
      width: 100,
      height: 300,
    });
  });
});

describe('predicted size', () => {
  const source = { width: 640, height: 427 };

  it('never enlarges with one side, inside or outside; gives the box with cover, contain, fill and pad', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }),
        fc.constantFrom('cover', 'contain', 'fill', 'inside', 'outside', 'pad' as const),
        fc.constantFrom(1, 1.5, 2),
        (width, height, fit, dpr) => {
          const out = predictSize({ width, height, fit, dpr }, source);
          const w = width === undefined ? undefined : Math.round(width * dpr);
          const h = height === undefined ? undefined : Math.round(height * dpr);
          if (w !== undefined && h !== undefined && ['cover', 'contain', 'fill', 'pad'].includes(fit)) {
            expect(out).toEqual({ width: w, height: h });
            return;
          }
          expect(out.width).toBeLessThanOrEqual(source.width);
          expect(out.height).toBeLessThanOrEqual(source.height);
          expect(out.width).toBeGreaterThanOrEqual(1);
          expect(out.height).toBeGreaterThanOrEqual(1);
          // the ratio is kept, to a pixel
          expect(Math.abs(out.height - (out.width * source.height) / source.width)).toBeLessThanOrEqual(1);
          if (w !== undefined && h === undefined) expect(out.width).toBe(Math.min(w, source.width));
          if (h !== undefined && w === undefined) expect(out.height).toBe(Math.min(h, source.height));
          if (w !== undefined && h !== undefined && fit === 'inside')
            expect(out.width <= w && out.height <= h).toBe(true);
          if (w !== undefined && h !== undefined && fit === 'outside' && out.width < source.width)
            expect(out.width >= w && out.height >= h).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
