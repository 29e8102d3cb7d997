/**
 * The text watermark as an SVG overlay the size of one output frame: white bold text with a dark
 * outline (readable on light and dark photographs) in the chosen corner.
 */
import type { Corner } from '../transforms/index.js';

/** Text height as a share of the output width, before shrinking to fit. */
const SIZE_OF_WIDTH = 0.05;
/** Smallest and largest text height, px. */
const MIN_SIZE = 6;
const MAX_SIZE = 160;
/** Space between the text and the image edges, as a share of the text height. */
const MARGIN = 0.6;

/** Width of the text in ems, estimated: wide (CJK, emoji) characters take about 1 em, others about 0.65. */
function ems(text: string): number {
  let total = 0;
  for (const char of text) total += (char.codePointAt(0) ?? 0) >= 0x2e80 ? 1 : 0.65;
  return total;
}

const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An SVG of `width`×`height` px with `text` in `corner`. The text height is 5% of the width, at
 * least 6 and at most 160 px, shrunk so that the whole text fits across the frame when it can.
 */
export function watermarkSvg(text: string, corner: Corner, width: number, height: number): Buffer {
  const wanted = Math.min(MAX_SIZE, Math.round(width * SIZE_OF_WIDTH), Math.floor(height / (1 + 2 * MARGIN)));
  const fitting = Math.floor(width / (ems(text) + 2 * MARGIN));
  const size = Math.max(MIN_SIZE, Math.min(wanted, fitting));
  const margin = Math.round(size * MARGIN);
  const east = corner.endsWith('e');
  const south = corner.startsWith('s');
  const x = east ? width - margin : margin;
  const y = south ? height - margin : margin;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${size}" font-weight="bold"
    text-anchor="${east ? 'end' : 'start'}" dominant-baseline="${south ? 'text-after-edge' : 'text-before-edge'}"
    fill="#ffffff" fill-opacity="0.92" stroke="#000000" stroke-opacity="0.65"
    stroke-width="${Math.max(1, Math.round(size / 10))}" paint-order="stroke">${escapeXml(text)}</text>
</svg>`;
  return Buffer.from(svg, 'utf8');
}
