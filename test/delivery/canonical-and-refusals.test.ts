/**
 * One variant, one URL: a non-canonical URL answers 301 to the canonical one (signed again when
 * it was signed). Bad URLs answer a 4xx problem document naming what is wrong, before any render.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { replaceAsset, type AssetView } from '../ingestion/ingest-client.js';
import { fixture } from '../support/fixtures.js';
import {
  dataOf,
  expectProblem,
  fetchImage,
  imageBase,
  imageInfo,
  rendersOf,
  settle,
  signerOf,
  signHere,
  upload,
  urlOf,
} from './delivery-client.js';

describeWith([], 'canonical URLs and refusals', () => {
  let t: TestTessera;
  let rocket: AssetView;
  let secret: AssetView;

  beforeAll(async () => {
    t = await startTestTessera();
    [rocket, secret] = await Promise.all([
      upload(t, 'rocket.jpg'),
      upload(t, 'chelsea.png', { access: 'PRIVATE' }),
    ]);
    await settle(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  describe('a non-canonical URL answers 301 to the canonical one', () => {
    const cases: [string, string, Record<string, unknown> | null][] = [
      ['operations out of order', 'h_200-w_300-f_cover-fmt_jpg.jpg', { width: 300, height: 200 }],
      ['dpr folded into the width', 'w_150-dpr_2.jpg', { width: 300 }],
      ['dpr folded into both sides', 'dpr_1.5-w_100-h_100.webp', { width: 150, height: 150, format: 'WEBP' }],
      ['the format missing', 'w_300.jpg', { width: 300 }],
      ['the format missing, another extension', 'w_300.webp', { width: 300, format: 'WEBP' }],
      ['an extension that is not the format', 'w_300-fmt_png.jpg', { width: 300, format: 'PNG' }],
      ['jpeg spelled out', 'w_300-fmt_jpeg.jpeg', { width: 300 }],
      ['defaults spelled out', 'g_center-q_auto-r_0-w_300.jpg', { width: 300 }],
      [
        'numbers and colours not normalised',
        'blur_1.50-w_300-h_300-f_contain-b_F00.jpg',
        { width: 300, height: 300, fit: 'CONTAIN', background: 'ff0000', blur: 1.5 },
      ],
      ['gravity that cannot matter', 'w_300-g_ne.jpg', { width: 300 }],
      ['the original with another extension', 'original.png', null],
      ['the original as jpeg', 'original.jpeg', null],
    ];
    for (const [what, file, transform] of cases) {
      it(what, async () => {
        const canonical = await urlOf(t, rocket.id, transform ? { transform } : {});
        const answer = await fetchImage(`${imageBase(t, rocket)}${file}`);
        expect(answer.status).toBe(301);
        expect(answer.headers.get('location')).toBe(canonical);
        expect(answer.headers.get('location')).not.toBe(`${imageBase(t, rocket)}${file}`);
        expect(answer.headers.get('cache-control')).toBe('public, max-age=86400');
        const target = await fetchImage(canonical);
        expect(target.status).toBe(200);
      });
    }

    it('a canonical URL is served as it is', async () => {
      const canonical = await urlOf(t, rocket.id, {
        transform: { width: 300, height: 200, fit: 'INSIDE', gravity: 'NORTH' },
      });
      expect(canonical).toMatch(/\/w_300-h_200-f_inside-fmt_jpg\.jpg$/);
      expect((await fetchImage(canonical)).status).toBe(200);
    });

    it('a signed non-canonical URL redirects to a URL signed for the canonical path, expiring at the same time', async () => {
      const signer = await signerOf(t, t.boot.organizationId);
      const exp = Math.floor(Date.now() / 1000) + 300;
      const typed = signHere(t, secret, 'h_100-w_100.png', signer, exp);
      const answer = await fetchImage(typed);
      expect(answer.status).toBe(301);
      const location = new URL(answer.headers.get('location')!);
      expect(location.pathname).toMatch(/\/v1\/priv\/.*\/w_100-h_100-f_cover-fmt_png\.png$/);
      expect(location.searchParams.get('exp')).toBe(String(exp));
      expect(location.searchParams.get('kid')).toBe(signer.kid);
      expect(location.href).toBe(signHere(t, secret, 'w_100-h_100-f_cover-fmt_png.png', signer, exp));
      // Cached privately, and no longer than the URL is valid.
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(answer.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(exp - Math.floor(Date.now() / 1000) + 1);
      const target = await fetchImage(location.href);
      expect(target.status).toBe(200);
      expect(await imageInfo(target.body)).toMatchObject({ format: 'png', width: 100, height: 100 });
      // The redirect of a forged URL is not an oracle: it is refused.
      const forged = new URL(typed);
      forged.searchParams.set('sig', 'A'.repeat(43));
      expect((await fetchImage(forged.href)).status).toBe(403);
    });
  });

  describe('bad URLs are refused before any render', () => {
    const hundreds = Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? 'bw' : 'flip')).join('-');
    const cases: [string, string, number, string, string | null][] = [
      ['w_0', 'w_0.jpg', 400, 'BAD_USER_INPUT', 'w_0'],
      ['w_-5', 'w_-5.jpg', 400, 'BAD_USER_INPUT', 'w_-5'],
      ['w_99999', 'w_99999.jpg', 400, 'BAD_USER_INPUT', 'w_99999'],
      ['w_ not a number', 'w_abc.jpg', 400, 'BAD_USER_INPUT', 'w_abc'],
      ['q_500', 'w_100-q_500.jpg', 400, 'BAD_USER_INPUT', 'q_500'],
      ['fmt_bmp', 'w_100-fmt_bmp.jpg', 400, 'BAD_USER_INPUT', 'fmt_bmp'],
      ['a .bmp extension', 'w_100.bmp', 400, 'BAD_USER_INPUT', '.bmp'],
      ['r_45', 'w_100-r_45.jpg', 400, 'BAD_USER_INPUT', 'r_45'],
      ['dpr_5', 'w_100-dpr_5.jpg', 400, 'BAD_USER_INPUT', 'dpr_5'],
      ['an unknown token', 'w_100-sepia_3.jpg', 400, 'BAD_USER_INPUT', 'sepia_3'],
      ['a flag with a value', 'w_100-bw_1.jpg', 400, 'BAD_USER_INPUT', 'bw_1'],
      ['a duplicated token', 'w_100-w_200.jpg', 400, 'BAD_USER_INPUT', 'w_200'],
      ['a duplicated flag', 'flip-w_100-flip.jpg', 400, 'BAD_USER_INPUT', 'flip'],
      ['two hyphens', 'w_100--h_100.jpg', 400, 'BAD_USER_INPUT', null],
      [
        '25 operations',
        `${Array.from({ length: 25 }, (_, i) => ['bw', 'flip', 'flop', `w_${100 + i}`][i % 4]).join('-')}.jpg`,
        400,
        'BAD_USER_INPUT',
        null,
      ],
      ['500 tokens', `${hundreds}.jpg`, 400, 'BAD_USER_INPUT', null],
      [
        'a watermark that is not base64url',
        'w_100-wm_not*base64.jpg',
        400,
        'BAD_USER_INPUT',
        'wm_not*base64',
      ],
      [
        'a watermark that is not UTF-8',
        `w_100-wm_${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}.jpg`,
        400,
        'BAD_USER_INPUT',
        `wm_${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}`,
      ],
      [
        'a watermark in an unknown corner',
        `w_100-wm_${Buffer.from('hi').toString('base64url')},middle.jpg`,
        400,
        'BAD_USER_INPUT',
        `wm_${Buffer.from('hi').toString('base64url')},middle`,
      ],
      [
        'a crop outside the photograph',
        'c_600,400,100,100-fmt_jpg.jpg',
        400,
        'BAD_USER_INPUT',
        'c_600,400,100,100',
      ],
      ['an unknown preset', 'preset_no-such-preset.jpg', 400, 'BAD_USER_INPUT', 'preset_no-such-preset'],
      ['no extension', 'w_100', 400, 'BAD_USER_INPUT', null],
    ];
    for (const [what, file, status, code, token] of cases) {
      it(what, async () => {
        const before = rendersOf(t.tessera);
        const answer = await fetchImage(`${imageBase(t, rocket)}${file}`);
        const problem = expectProblem(answer, status, code);
        if (token !== null) {
          expect(problem.token).toBe(token);
          // The message names the token, or for a preset its name.
          expect(problem.detail).toContain(token.replace(/^(preset_|\.)/, ''));
        }
        expect(rendersOf(t.tessera)).toBe(before);
      });
    }

    it('a signed URL with bad operations is refused the same way', async () => {
      const before = rendersOf(t.tessera);
      const answer = await fetchImage(
        signHere(t, secret, 'w_0.png', await signerOf(t, t.boot.organizationId)),
      );
      expect(expectProblem(answer, 400, 'BAD_USER_INPUT').token).toBe('w_0');
      expect(rendersOf(t.tessera)).toBe(before);
    });

    it('unknown organization, tenant, space, asset, id, access and version segments answer 404', async () => {
      const { organization: o, tenant: n, space: s } = t.boot;
      const id = rocket.id;
      const file = 'w_100-fmt_jpg.jpg';
      const paths = [
        `/v1/pub/no-such-org/${n}/${s}/img/${id}/v1/${file}`,
        `/v1/pub/${o}/no-such-tenant/${s}/img/${id}/v1/${file}`,
        `/v1/pub/${o}/${n}/no-such-space/img/${id}/v1/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/ast_${'0'.repeat(32)}/v1/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/not-an-id/v1/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/${id.replace('ast_', 'spc_')}/v1/${file}`,
        `/v1/public/${o}/${n}/${s}/img/${id}/v1/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/${id}/v0/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/${id}/1/${file}`,
        `/v1/pub/${o}/${n}/${s}/img/${id}/v2/${file}`,
      ];
      expect((await fetchImage(`${t.baseUrl}/v1/pub/${o}/${n}/${s}/img/${id}/v1/${file}`)).status).toBe(200);
      const before = rendersOf(t.tessera);
      for (const path of paths) {
        const answer = await fetchImage(`${t.baseUrl}${path}`);
        expect([path, answer.status, answer.headers.get('content-type')?.split(';')[0]]).toEqual([
          path,
          404,
          'application/problem+json',
        ]);
      }
      expect(rendersOf(t.tessera)).toBe(before);
    });

    it('the URLs of a deleted asset answer 404 at once, and render nothing', async () => {
      const doomed = await upload(t, 'coffee.png');
      await settle(t);
      const variant = await urlOf(t, doomed.id, { transform: { width: 100 } });
      const original = await urlOf(t, doomed.id);
      expect((await fetchImage(variant)).status).toBe(200);
      expect((await fetchImage(original)).status).toBe(200);
      dataOf(await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: doomed.id }));
      const before = rendersOf(t.tessera);
      for (const url of [variant, original, variant.replace('w_100', 'w_101')])
        expectProblem(await fetchImage(url), 404, 'NOT_FOUND');
      expect(rendersOf(t.tessera)).toBe(before);
    });

    it('the URLs of a replaced version answer 404 at once; the new version serves the new photograph', async () => {
      const asset = await upload(t, 'hubble_deep_field.jpg');
      await settle(t);
      const old = await urlOf(t, asset.id, { transform: { width: 100 } });
      expect(await imageInfo((await fetchImage(old)).body)).toMatchObject({ width: 100, height: 87 });
      const replaced = dataOf(
        await replaceAsset(t, asset.id, { bytes: fixture('astronaut.png'), filename: 'astronaut.png' }),
      ).replaceAsset;
      expect(replaced.version).toBe(asset.version + 1);
      await settle(t);
      const before = rendersOf(t.tessera);
      const problem = expectProblem(await fetchImage(old), 404, 'NOT_FOUND');
      expect(problem.detail).toContain('not current');
      expect(rendersOf(t.tessera)).toBe(before);
      const current = await urlOf(t, asset.id, { transform: { width: 100 } });
      expect(current).toContain(`/v${replaced.version}/`);
      expect(await imageInfo((await fetchImage(current)).body)).toMatchObject({ width: 100, height: 100 });
    });
  });
});
