import { describe, expect, it } from '@jest/globals';
import {
  extensionOf,
  formatFromExtension,
  mimeOf,
  naturalFormat,
  negotiateFormat,
  OUTPUT_FORMATS,
} from '../../src/transforms/index.js';

/** Accept headers browsers send for <img> requests. */
const ACCEPT = {
  chromium: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  safari17:
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  firefox2020: 'image/webp,*/*',
  safari14: 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  curl: '*/*',
};

const photo = { hasAlpha: false, animated: false };
const logo = { hasAlpha: true, animated: false };
const animation = { hasAlpha: true, animated: true };

describe('fmt_auto negotiation', () => {
  it('picks AVIF for current browsers', () => {
    expect(negotiateFormat(ACCEPT.chromium, photo)).toBe('avif');
    expect(negotiateFormat(ACCEPT.safari17, photo)).toBe('avif');
    expect(negotiateFormat(ACCEPT.firefox, photo)).toBe('avif');
    expect(negotiateFormat(ACCEPT.chromium, logo)).toBe('avif');
  });

  it('falls back to WebP, then JPEG or PNG (alpha)', () => {
    expect(negotiateFormat(ACCEPT.firefox2020, photo)).toBe('webp');
    expect(negotiateFormat(ACCEPT.safari14, photo)).toBe('jpg');
    expect(negotiateFormat(ACCEPT.safari14, logo)).toBe('png');
    expect(negotiateFormat(undefined, photo)).toBe('jpg');
    expect(negotiateFormat('', logo)).toBe('png');
  });

  it('does not take wildcards as a promise of AVIF or WebP', () => {
    // an old browser sends image/* without decoding WebP; curl sends */*
    expect(negotiateFormat(ACCEPT.curl, photo)).toBe('jpg');
    expect(negotiateFormat('image/*', photo)).toBe('jpg');
    expect(negotiateFormat('image/*;q=1, */*', logo)).toBe('png');
  });

  it('an old browser that names WebP only gets WebP, with or without alpha', () => {
    expect(negotiateFormat(ACCEPT.firefox2020, logo)).toBe('webp');
    expect(negotiateFormat(ACCEPT.firefox2020, animation)).toBe('webp');
  });

  it('takes q=0 as a refusal', () => {
    expect(negotiateFormat('image/avif;q=0', photo)).toBe('jpg');
    expect(negotiateFormat('image/avif;q=0', logo)).toBe('png');
    expect(negotiateFormat('image/avif;q=0,image/webp;q=0.1', photo)).toBe('webp');
    expect(negotiateFormat('image/webp;q=0,*/*', animation)).toBe('gif');
  });

  it('reads q-values, case and spacing', () => {
    expect(negotiateFormat('image/avif;q=0, image/webp', photo)).toBe('webp');
    expect(negotiateFormat('image/avif; q=0.0,image/webp;q=0', photo)).toBe('jpg');
    expect(negotiateFormat('IMAGE/AVIF ; Q=0.5', photo)).toBe('avif');
    expect(negotiateFormat('image/avif;q=abc', photo)).toBe('jpg');
    expect(negotiateFormat('  image/webp  ;  q=0.9 , text/html', photo)).toBe('webp');
  });

  it('keeps animations animated: WebP when accepted, else GIF', () => {
    expect(negotiateFormat(ACCEPT.chromium, animation)).toBe('webp');
    expect(negotiateFormat(ACCEPT.safari17, animation)).toBe('webp');
    expect(negotiateFormat(ACCEPT.firefox, animation)).toBe('webp');
    expect(negotiateFormat(ACCEPT.safari14, animation)).toBe('gif');
    expect(negotiateFormat(undefined, animation)).toBe('gif');
    expect(negotiateFormat(ACCEPT.curl, animation)).toBe('gif');
  });
});

describe('extensions and media types', () => {
  it('maps every output format both ways', () => {
    for (const format of OUTPUT_FORMATS) {
      expect(formatFromExtension(extensionOf(format))).toBe(format);
      expect(mimeOf(format)).toMatch(/^image\//);
    }
    expect(extensionOf('jpg')).toBe('jpg');
    expect(mimeOf('jpg')).toBe('image/jpeg');
    expect(mimeOf('avif')).toBe('image/avif');
  });

  it('accepts jpeg as an alias and nothing else', () => {
    expect(formatFromExtension('jpeg')).toBe('jpg');
    expect(formatFromExtension('JPG')).toBe('jpg');
    for (const ext of ['bmp', 'tiff', 'svg', '', 'jpgx', 'auto', 'constructor'])
      expect(formatFromExtension(ext)).toBeUndefined();
  });
});

describe('natural format of an original', () => {
  it('keeps an output format, and gives JPEG or PNG (alpha) for the others', () => {
    const of = (format: string, hasAlpha = false, animated = false) =>
      naturalFormat({ format, hasAlpha, animated });
    expect(of('jpeg')).toBe('jpg');
    for (const format of ['png', 'webp', 'avif', 'gif'] as const) expect(of(format)).toBe(format);
    expect(of('gif', true, true)).toBe('gif');
    expect(of('heif')).toBe('jpg');
    expect(of('heif', true)).toBe('png');
    expect(of('tiff', true)).toBe('png');
  });
});
