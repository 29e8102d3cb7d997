import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { DomainError, ErrorCode } from '../../src/errors/index.js';
import { RenderError, renderVariant, type RenderFailure } from '../../src/imaging/render.js';
import { fixture } from '../support/fixtures.js';
import { LIMITS, planOf, render } from './render-support.js';

async function failure(run: Promise<unknown>): Promise<RenderError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(RenderError);
    expect(error).toBeInstanceOf(DomainError);
    return error as RenderError;
  }
  throw new Error('expected the render to fail');
}

const expectFailure = async (run: Promise<unknown>, reason: RenderFailure, code: string) => {
  const error = await failure(run);
  expect([error.reason, error.code]).toEqual([reason, code]);
  return error;
};

/**
 * A PNG whose header says `width`×`height` RGB but whose data holds a few hundred bytes of zeros:
 * decoding it fails, reading its header does not.
 */
function headerOnlyPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(300))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('render limits and bad input', () => {
  it('refuses a source with more pixels than allowed, from its header, before decoding', async () => {
    const dragonfly = fixture('Dragonfly_by_Bolly.jpg'); // 4224×3168 = 13.4 MP
    const error = await expectFailure(
      renderVariant(dragonfly, planOf('w_100'), {
        format: 'jpg',
        limits: { ...LIMITS, maxInputPixels: 10_000_000 },
      }),
      'input-too-large',
      ErrorCode.LimitExceeded,
    );
    expect(error.details).toMatchObject({ width: 4224, height: 3168, maxInputPixels: 10_000_000 });
    await expect(
      renderVariant(dragonfly, planOf('w_100'), {
        format: 'jpg',
        limits: { ...LIMITS, maxInputPixels: 13_400_000 },
      }),
    ).resolves.toBeDefined();
  });

  it('refuses a decompression bomb from its header alone: its data is never decoded', async () => {
    // 30000×30000 (900 MP) claimed, a few hundred bytes of data: any decode would fail as undecodable
    const bomb = headerOnlyPng(30_000, 30_000);
    expect(await sharp(bomb, { limitInputPixels: false }).metadata()).toMatchObject({
      format: 'png',
      width: 30_000,
      height: 30_000,
    });
    const error = await expectFailure(
      renderVariant(bomb, planOf('w_100'), { format: 'jpg', limits: LIMITS }),
      'input-too-large',
      ErrorCode.LimitExceeded,
    );
    expect(error.details).toMatchObject({
      width: 30_000,
      height: 30_000,
      maxInputPixels: LIMITS.maxInputPixels,
    });
    // the same file under the limit is decoded, and that fails: the refusal above came before any decode
    const small = headerOnlyPng(3000, 3000);
    await expectFailure(
      renderVariant(small, planOf('w_100'), { format: 'jpg', limits: LIMITS }),
      'undecodable',
      ErrorCode.UnprocessableImage,
    );
  });

  it('counts every frame of an animation it keeps, one frame of one it does not', async () => {
    const gif = fixture('no_time_for_that_tiny.gif'); // 14×25 × 24 frames = 8400 px
    const limits = { ...LIMITS, maxInputPixels: 1000 };
    await expectFailure(
      renderVariant(gif, planOf('w_10'), { format: 'gif', limits }),
      'input-too-large',
      ErrorCode.LimitExceeded,
    );
    await expect(renderVariant(gif, planOf('w_10'), { format: 'png', limits })).resolves.toMatchObject({
      frames: 1,
    });
  });

  it('refuses an output larger than the limit, from the predicted size', async () => {
    const limits = { ...LIMITS, maxOutputDimension: 500 };
    const error = await expectFailure(
      renderVariant(fixture('rocket.jpg'), planOf('w_600'), { format: 'jpg', limits }),
      'output-too-large',
      ErrorCode.LimitExceeded,
    );
    expect(error.details).toMatchObject({ width: 600, height: 400, maxOutputDimension: 500 });
    // the original size counts too when no size is asked
    await expectFailure(
      renderVariant(fixture('rocket.jpg'), planOf('fmt_webp'), { format: 'webp', limits }),
      'output-too-large',
      ErrorCode.LimitExceeded,
    );
    // dpr is folded before the check, whoever built the plan
    await expectFailure(
      renderVariant(fixture('rocket.jpg'), { width: 300, dpr: 2 }, { format: 'jpg', limits }),
      'output-too-large',
      ErrorCode.LimitExceeded,
    );
  });

  it('refuses a crop outside the image as bad input naming the token', async () => {
    for (const ops of ['c_600,0,41,10', 'c_0,400,10,28', 'c_0,0,641,427', 'c_10000,10000,1,1']) {
      const error = await expectFailure(
        render(fixture('rocket.jpg'), ops),
        'crop-outside',
        ErrorCode.BadUserInput,
      );
      expect(error.details?.token).toBe(ops);
      expect(error.message).toContain('640×427');
    }
    await expect(render(fixture('rocket.jpg'), 'c_600,400,40,27')).resolves.toMatchObject({
      width: 40,
      height: 27,
    });
  });

  it('fails clearly on a truncated or corrupt original', async () => {
    await expectFailure(
      render(fixture('truncated.jpg'), 'w_100'),
      'undecodable',
      ErrorCode.UnprocessableImage,
    );
    await expectFailure(
      render(Buffer.from('this is not an image at all'), 'w_100'),
      'undecodable',
      ErrorCode.UnprocessableImage,
    );
    const rocket = fixture('rocket.jpg');
    await expectFailure(
      render(rocket.subarray(0, Math.floor(rocket.length * 0.6)), 'w_100'),
      'undecodable',
      ErrorCode.UnprocessableImage,
    );
    await expectFailure(render(Buffer.alloc(0), 'w_100'), 'undecodable', ErrorCode.UnprocessableImage);
  });

  it('stops a render that outlasts its time budget', async () => {
    const landscape = fixture('picosdeeuropa_by_Aitzol_Berasategi.jpg'); // 3264×2448
    const started = Date.now();
    const error = await expectFailure(
      renderVariant(landscape, planOf('blur_300-sharpen_10-fmt_avif'), {
        format: 'avif',
        limits: { ...LIMITS, timeoutSeconds: 1 },
      }),
      'time-budget',
      ErrorCode.LimitExceeded,
    );
    expect(error.details).toEqual({ timeoutSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('never lets a plan with bad values reach Sharp', async () => {
    // a plan built by hand goes through the same canonical form; the grammar refuses bad values earlier
    const out = await renderVariant(
      fixture('rocket.jpg'),
      { width: 100, fit: 'cover', quality: 'auto', rotate: 0 },
      { format: 'jpg', limits: LIMITS },
    );
    expect([out.width, out.height]).toEqual([100, 67]);
    expect((await sharp(out.data).metadata()).format).toBe('jpeg');
    for (const plan of [
      { width: 0 },
      { blur: 0.1 },
      { rotate: 45 },
      { crop: { x: -1, y: 0, width: 5, height: 5 } },
      { background: 'red' },
    ] as const) {
      const error = await renderVariant(fixture('rocket.jpg'), plan as never, {
        format: 'jpg',
        limits: LIMITS,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe(ErrorCode.BadUserInput);
      expect((error as DomainError).details).toEqual({ field: Object.keys(plan)[0] });
    }
  });
});
