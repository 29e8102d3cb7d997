/**
 * Kinds of images users upload, made from the real photographs with Sharp where the fixtures do
 * not have them: EXIF orientation, alpha, animation, CMYK, and GPS kept only where the space
 * allows it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  createSpace,
  holdings,
  JOBS_OFF,
  originalsOf,
  sha256,
  uploadAsset,
  type AssetView,
  type FilePart,
} from './ingest-client.js';

describe('ingestion: kinds of images', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({ env: JOBS_OFF });
  }, 120_000);
  afterAll(async () => t?.close());

  async function upload(file: FilePart, spaceId?: string): Promise<AssetView> {
    const res = await uploadAsset(t, file, spaceId === undefined ? {} : { spaceId });
    if (!res.data) throw new Error(JSON.stringify(res.errors));
    return res.data.uploadAsset;
  }

  const placeholderSize = async (asset: AssetView) => {
    const meta = await sharp(Buffer.from(asset.placeholder.dataUri.split(',')[1]!, 'base64')).metadata();
    return { width: meta.width, height: meta.height };
  };

  it('reports a photo carrying EXIF orientation 6 upright: width and height swapped, orientation 6', async () => {
    const rotated = await sharp(fixture('rocket.jpg'))
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 90 })
      .toBuffer();
    const stored = await sharp(rotated).metadata();
    expect([stored.width, stored.height, stored.orientation]).toEqual([640, 427, 6]);

    const asset = await upload({ bytes: rotated, filename: 'sideways.jpg', type: 'image/jpeg' });
    expect(asset).toMatchObject({
      width: 427,
      height: 640,
      orientation: 6,
      format: 'jpeg',
      sha256: sha256(rotated),
    });
    // The placeholder is upright too: taller than wide.
    const tiny = await placeholderSize(asset);
    expect(tiny.height!).toBeGreaterThan(tiny.width!);
    expect([tiny.width, tiny.height]).toEqual([asset.placeholder.width, asset.placeholder.height]);
  });

  it('tells images with an alpha channel from opaque ones', async () => {
    const logo = await upload({ bytes: fixture('logo.png'), filename: 'logo.png', type: 'image/png' });
    expect(logo).toMatchObject({
      format: 'png',
      mimeType: 'image/png',
      hasAlpha: true,
      width: 500,
      height: 500,
    });

    const translucent = await sharp(fixture('rocket.jpg')).ensureAlpha(0.5).png().toBuffer();
    const see = await upload({ bytes: translucent, filename: 'translucent.png', type: 'image/png' });
    expect(see).toMatchObject({ format: 'png', hasAlpha: true, width: 640, height: 427 });

    const opaque = await sharp(fixture('rocket.jpg')).png().toBuffer();
    expect(await upload({ bytes: opaque, filename: 'opaque.png', type: 'image/png' })).toMatchObject({
      format: 'png',
      hasAlpha: false,
    });
  });

  it('counts the frames of an animated GIF', async () => {
    const gif = await upload({
      bytes: fixture('no_time_for_that_tiny.gif'),
      filename: 'no_time_for_that.gif',
      type: 'image/gif',
    });
    expect(gif).toMatchObject({
      format: 'gif',
      mimeType: 'image/gif',
      animated: true,
      frames: 24,
      width: 14,
      height: 25,
    });

    const still = await sharp(fixture('no_time_for_that_tiny.gif')).gif().toBuffer();
    expect(await upload({ bytes: still, filename: 'first-frame.gif', type: 'image/gif' })).toMatchObject({
      format: 'gif',
      animated: false,
      frames: 1,
    });
  });

  it('accepts a CMYK JPEG and says so', async () => {
    const cmyk = await sharp(fixture('rocket.jpg')).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const asset = await upload({ bytes: cmyk, filename: 'print.jpg', type: 'image/jpeg' });
    expect(asset).toMatchObject({ format: 'jpeg', colorSpace: 'cmyk', width: 640, height: 427 });
    expect(await placeholderSize(asset)).toEqual({
      width: asset.placeholder.width,
      height: asset.placeholder.height,
    });
  });

  it('keeps GPS position in EXIF only in a space that allows it', async () => {
    const located = await sharp(fixture('rocket.jpg'))
      .withExif({
        IFD0: { Make: 'Tessera', Model: 'Field camera' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '48/1 51/1 2406/100',
          GPSLongitudeRef: 'E',
          GPSLongitude: '2/1 17/1 4025/100',
        },
      })
      .jpeg({ quality: 90 })
      .toBuffer();

    // The default space does not keep it.
    const plain = await upload({ bytes: located, filename: 'paris.jpg', type: 'image/jpeg' });
    expect(plain.exif).toMatchObject({ Image: { Make: 'Tessera', Model: 'Field camera' } });
    expect(plain.exif).not.toHaveProperty('GPSInfo');
    expect(JSON.stringify(plain.exif)).not.toMatch(/GPS/);

    const spaceId = await createSpace(t, 'Field work');
    const updated = await t.gql<{ updateSpace: { keepGps: boolean } }>(
      `mutation($id: ID!) { updateSpace(id: $id, input: { keepGps: true }) { keepGps } }`,
      { id: spaceId },
    );
    expect(updated.data?.updateSpace.keepGps).toBe(true);
    const kept = await upload({ bytes: located, filename: 'paris.jpg', type: 'image/jpeg' }, spaceId);
    expect(kept.id).not.toBe(plain.id);
    expect(kept.exif?.GPSInfo).toMatchObject({
      GPSLatitudeRef: 'N',
      GPSLatitude: [48, 51, 24.06],
      GPSLongitudeRef: 'E',
      GPSLongitude: [2, 17, 40.25],
    });

    // The second space holds its own copy of the original.
    const { objects } = await holdings(t);
    expect(originalsOf(objects, spaceId)).toHaveLength(1);
  });
});
