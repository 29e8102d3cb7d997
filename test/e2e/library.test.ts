/**
 * The media library page in headless Chromium, as a person uses it: sign in with the prefilled
 * key, see the space's photographs, drop a new one on the page, open an asset, play with the
 * transform editor. The page is served by `registerLibraryRoute` on its own small server and talks
 * to a live Tessera (local-disk storage, so direct uploads go to Tessera's own signed form
 * endpoint). Screenshots are saved under test/.artifacts/ and compared with the photographs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { AssetDocument, createTesseraClient, PresetsDocument, type TesseraClient } from '../../sdk/index.js';
import { registerLibraryRoute } from '../../src/http/routes/library.js';
import { launchBrowser } from '../support/browser.js';
import { fixture, fixturePath, repoRoot, type FixtureName } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { freePort, startTestTessera, type TestTessera } from '../support/tessera.js';

const artifacts = join(repoRoot, 'test', '.artifacts');
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Photographs uploaded through the SDK before the page opens, oldest first. */
const PHOTOS = ['rocket.jpg', 'chelsea.png', 'coffee.png'] as const satisfies readonly FixtureName[];
const TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png' };
const fileOf = (name: FixtureName): File =>
  new File([new Uint8Array(fixture(name))], name, { type: TYPES[name.split('.').pop()!] });

/** Side of the small thumbnails that screenshots and photographs are compared at, px. */
const PROBE = 24;

/** An image (the result of a pipeline) as sRGB at PROBE×PROBE. */
async function probe(image: ReturnType<typeof sharp>): Promise<Buffer> {
  const made = await image.png().toBuffer();
  return sharp(made)
    .resize(PROBE, PROBE, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer();
}

/** Mean absolute difference of two probes, 0 (same) to 255. */
function distance(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describeWith(['chromium'], 'Media library page in Chromium', () => {
  let t: TestTessera;
  let site: FastifyInstance;
  let siteOrigin = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tessera: TesseraClient;
  const ids = new Map<string, string>();
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    const sitePort = await freePort();
    siteOrigin = `http://127.0.0.1:${sitePort}`;
    [t, browser] = await Promise.all([
      startTestTessera({ env: { CORS_ORIGINS: siteOrigin } }),
      launchBrowser(),
    ]);
    site = Fastify();
    await registerLibraryRoute(site, {
      graphqlUrl: `${t.baseUrl}/graphql`,
      bootstrapKey: () => t.boot.apiKey,
    });
    await site.listen({ host: '127.0.0.1', port: sitePort });
    tessera = createTesseraClient({ url: `${t.baseUrl}/graphql`, apiKey: t.boot.apiKey });
    for (const name of PHOTOS) {
      const asset = await tessera.uploadAsset(fileOf(name), { spaceId: t.boot.spaceId });
      ids.set(name, asset.id);
    }
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await site?.close();
    await t?.close();
  });

  it('serves the page and its bundle from the server itself; the bootstrap key only to this machine', async () => {
    const local = await fetch(`${siteOrigin}/`);
    expect(local.status).toBe(200);
    expect(local.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(local.headers.get('cache-control')).toBe('no-store');
    expect(local.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await local.text();
    expect(html).toContain(`<meta name="tessera-graphql" content="${t.baseUrl}/graphql" />`);
    expect(html).toContain(`<meta name="tessera-bootstrap-key" content="${t.boot.apiKey}" />`);
    expect(html).not.toMatch(/(src|href)=["'](https?:)?\/\//i);

    const proxied = await (
      await fetch(`${siteOrigin}/`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
    ).text();
    expect(proxied).not.toContain(t.boot.apiKey);
    expect(proxied).not.toContain('tessera-bootstrap-key');

    const files = [...html.matchAll(/(?:src|href)="(\/library\/[^"]+)"/g)].map((m) => m[1]!);
    expect(files).toHaveLength(2);
    for (const file of files) {
      const response = await fetch(`${siteOrigin}${file}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-type')).toMatch(
        file.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      expect((await response.text()).length).toBeGreaterThan(1000);
    }
    expect((await fetch(`${siteOrigin}/library/nothing.js`)).status).toBe(404);
  });

  it('leaves no bundler process behind once the page is built', () => {
    const children = readdirSync('/proc/self/task').flatMap((task) =>
      readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean),
    );
    const commands = children.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return ''; // exited meanwhile
      }
    });
    expect(commands.filter((command) => command.includes('esbuild'))).toEqual([]);
  });

  it('the page type-checks on its own, with the DOM and without Node types', async () => {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', 'web/tsconfig.json'], {
      cwd: repoRoot,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    expect(result.stdout.trim()).toBe('');
  }, 120_000);

  it('signs in with the prefilled key and shows the space as a grid of placeholders that sharpen into its images', async () => {
    await page.goto(`${siteOrigin}/`);
    await expect(page.getByLabel('API key').inputValue()).resolves.toBe(t.boot.apiKey);
    await page.screenshot({ path: join(artifacts, 'library-sign-in.png') });
    await page.getByRole('button', { name: 'Sign in' }).click();
    const tiles = page.locator('#grid > li');
    await tiles.nth(PHOTOS.length - 1).waitFor();
    expect(await tiles.count()).toBe(PHOTOS.length);
    expect(await page.evaluate(() => sessionStorage.getItem('tessera.apiKey'))).toBe(t.boot.apiKey);

    // Newest first; each tile reserves its box from `image` and starts on the BlurHash-era data URI.
    const newestFirst = [...PHOTOS].reverse();
    expect(
      await tiles.evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.assetId)),
    ).toEqual(newestFirst.map((name) => ids.get(name)));
    const shape = await page.locator('#grid img').evaluateAll((images) =>
      images.map((img) => {
        const image = img as HTMLImageElement;
        return {
          width: image.getAttribute('width'),
          height: image.getAttribute('height'),
          loading: image.loading,
          srcset: image.srcset !== '' && image.sizes !== '',
          placeholder: getComputedStyle(image.parentElement!).backgroundImage.startsWith(
            'url("data:image/webp',
          ),
        };
      }),
    );
    expect(shape).toEqual(
      PHOTOS.map(() => ({ width: '320', height: '320', loading: 'lazy', srcset: true, placeholder: true })),
    );

    await page.waitForFunction(
      (count) => {
        const images = [...document.querySelectorAll<HTMLImageElement>('#grid img')];
        // Loaded, sharpened, and done transitioning from the placeholder.
        return (
          images.length === count &&
          images.every(
            (img) => img.complete && img.naturalWidth > 0 && img.parentElement!.classList.contains('loaded'),
          ) &&
          document.getAnimations().length === 0
        );
      },
      PHOTOS.length,
      { timeout: 30_000 },
    );
    const loaded = await page.locator('#grid img').evaluateAll((images) =>
      images.map((img) => ({
        src: (img as HTMLImageElement).currentSrc,
        w: (img as HTMLImageElement).naturalWidth,
      })),
    );
    for (const image of loaded) {
      expect(image.src.startsWith(`${t.baseUrl}/v1/pub/`)).toBe(true);
      expect(image.w).toBeGreaterThanOrEqual(320);
    }

    const screenshot = await page.screenshot({ path: join(artifacts, 'library-grid.png') });

    // Each tile of the screenshot looks like its own photograph (cropped to the square), more
    // than like any other photograph of the space.
    const boxes = await page.locator('#grid img').evaluateAll((images) =>
      images.map((img) => {
        const r = img.getBoundingClientRect();
        return {
          left: Math.round(r.left),
          top: Math.round(r.top),
          width: Math.round(r.width),
          height: Math.round(r.height),
        };
      }),
    );
    const expected = await Promise.all(
      newestFirst.map((name) => probe(sharp(fixture(name)).resize(320, 320, { fit: 'cover' }))),
    );
    for (const [index, box] of boxes.entries()) {
      expect(box.width).toBeGreaterThan(100);
      const shown = await probe(sharp(screenshot).extract(box));
      const distances = expected.map((photo) => distance(shown, photo));
      const own = distances[index]!;
      expect({ tile: newestFirst[index], close: own < 12, closest: Math.min(...distances) === own }).toEqual({
        tile: newestFirst[index],
        close: true,
        closest: true,
      });
    }
  }, 90_000);

  it('a photograph dropped on the page goes straight to storage with a progress bar, and one tile is added', async () => {
    const photo = fixture('astronaut.png');
    await page.evaluate(
      ({ base64, name }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'image/png' }));
        const target = document.querySelector('#grid')!;
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
          );
        }
      },
      { base64: photo.toString('base64'), name: 'astronaut.png' },
    );
    const row = page.locator('#upload-list > li', { hasText: 'astronaut.png' });
    await row.locator('.upload-status', { hasText: 'Done' }).waitFor({ timeout: 30_000 });
    expect(await row.locator('progress').evaluate((p) => (p as HTMLProgressElement).value)).toBe(100);
    await expect(row.getByLabel('astronaut.png').evaluate((p) => p.tagName)).resolves.toBe('PROGRESS');
    const assetId = await row.getAttribute('data-asset-id');

    const tiles = page.locator('#grid > li');
    await page.waitForFunction(
      (count) => document.querySelectorAll('#grid > li').length === count,
      PHOTOS.length + 1,
    );
    expect(await tiles.first().getAttribute('data-asset-id')).toBe(assetId);
    await page.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('#grid > li:first-child img');
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 30_000 },
    );

    // The file went to the signed form endpoint, not through GraphQL, and arrived whole.
    expect(requests).toContain(`POST ${t.baseUrl}/uploads`);
    const { asset } = await tessera.request(AssetDocument, { id: assetId! });
    expect(asset).toMatchObject({
      filename: 'astronaut.png',
      sha256: sha256(photo),
      width: 512,
      height: 512,
    });
    ids.set('astronaut.png', assetId!);

    // The file picker does the same.
    await page.setInputFiles('#file-picker', fixturePath('hubble_deep_field.jpg'));
    const picked = page.locator('#upload-list > li', { hasText: 'hubble_deep_field.jpg' });
    await picked.locator('.upload-status', { hasText: 'Done' }).waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      (count) => document.querySelectorAll('#grid > li').length === count,
      PHOTOS.length + 2,
    );
    ids.set('hubble_deep_field.jpg', (await picked.getAttribute('data-asset-id'))!);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>('#grid img')].every(
          (img) => img.complete && img.naturalWidth > 0,
        ),
      undefined,
      { timeout: 30_000 },
    );
    await page.screenshot({ path: join(artifacts, 'library-uploaded.png') });
  }, 90_000);

  it('opening an asset shows its metadata, EXIF, eager presets and variants', async () => {
    await page.getByRole('button', { name: 'Open hubble_deep_field.jpg' }).click();
    const dialog = page.locator('#asset-dialog');
    await dialog.locator('.metadata').waitFor();
    expect(await dialog.locator('#asset-title').textContent()).toBe('hubble_deep_field.jpg');
    const rows = await dialog.locator('.metadata').evaluate((dl) => {
      const out: Record<string, string> = {};
      for (const dt of dl.querySelectorAll('dt'))
        out[dt.textContent ?? ''] = dt.nextElementSibling?.textContent ?? '';
      return out;
    });
    expect(rows).toMatchObject({
      Dimensions: '1000 × 872 px',
      Format: 'jpeg',
      'Media type': 'image/jpeg',
      Id: ids.get('hubble_deep_field.jpg'),
      'SHA-256': sha256(fixture('hubble_deep_field.jpg')),
    });
    expect(rows.Size).toContain('527,940 bytes');
    await expect(dialog.locator('.exif').textContent()).resolves.toContain('Adobe Photoshop CS5 Macintosh');
    // Eager presets render in the background; the dialog follows them until they are done.
    await page.waitForFunction(
      () => document.querySelectorAll('.processing [data-status="DONE"]').length === 3,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const { presets } = await tessera.request(PresetsDocument, { spaceId: t.boot.spaceId });
    const processing = await dialog.locator('.processing li').allTextContents();
    const variants = (await dialog.locator('table.variants tbody tr td:first-child').allTextContents()).map(
      (text) => text.trim(),
    );
    for (const preset of presets) {
      expect(processing.some((text) => text.includes(preset.slug) && text.includes('done'))).toBe(true);
      expect(variants.some((canonical) => canonical.startsWith(preset.canonical))).toBe(true);
    }
  }, 90_000);

  it('the transform editor updates its URL as the controls change and shows an image of that size', async () => {
    const dialog = page.locator('#asset-dialog');
    const url = dialog.getByLabel('URL');
    const image = dialog.locator('#transform-image');
    /** Waits until the editor's image is the URL shown, loaded, and answers its natural size. */
    const settled = async (tokens: readonly string[]) => {
      await page.waitForFunction(
        (wanted) => {
          const field = document.querySelector<HTMLInputElement>('#transform-url');
          const img = document.querySelector<HTMLImageElement>('#transform-image');
          if (!field || !img) return false;
          return (
            wanted.every((token) => field.value.includes(token)) &&
            img.src === field.value &&
            img.complete &&
            img.naturalWidth > 0
          );
        },
        tokens,
        { timeout: 30_000 },
      );
      return image.evaluate((img) => ({
        width: (img as HTMLImageElement).naturalWidth,
        height: (img as HTMLImageElement).naturalHeight,
      }));
    };

    await dialog.getByLabel('Width (px)').fill('200');
    await dialog.getByLabel('Format').selectOption('WEBP');
    expect(await settled(['/w_200-', 'fmt_webp', '.webp'])).toEqual({ width: 200, height: 174 });
    expect(await url.inputValue()).toMatch(
      new RegExp(`^${t.baseUrl}/v1/pub/.+/img/${ids.get('hubble_deep_field.jpg')}/v1/w_200-fmt_webp\\.webp$`),
    );
    await expect(dialog.locator('#transform-predicted').textContent()).resolves.toBe(
      '200 × 174 px predicted',
    );

    await dialog.getByLabel('Height (px)').fill('100');
    await dialog.getByLabel('Fit').selectOption('COVER');
    await dialog.getByLabel('Black and white').check();
    expect(await settled(['w_200-h_100', 'bw', 'fmt_webp'])).toEqual({ width: 200, height: 100 });
    const bytes = Buffer.from(await (await fetch(await url.inputValue())).arrayBuffer());
    const stats = await sharp(bytes).stats();
    expect((await sharp(bytes).metadata()).format).toBe('webp');
    // Black and white: the channels agree.
    const [r, g, b] = stats.channels;
    expect(Math.max(Math.abs(r!.mean - g!.mean), Math.abs(g!.mean - b!.mean))).toBeLessThan(1);

    await dialog.getByLabel('Width (px)').fill('0');
    await dialog.locator('#transform-error', { hasText: /width/i }).waitFor({ timeout: 10_000 });
    await dialog.getByLabel('Width (px)').fill('320');
    expect(await settled(['w_320-h_100'])).toEqual({ width: 320, height: 100 });
    await expect(dialog.locator('#transform-error').textContent()).resolves.toBe('');

    // Rendering it as a variant lists it among the asset's variants.
    const ops = (await url.inputValue())
      .split('/')
      .pop()!
      .replace(/\.\w+$/, '');
    expect(ops).toMatch(/^w_320-h_100-.*bw.*-fmt_webp$/);
    await dialog.getByRole('button', { name: 'Render as a variant' }).click();
    await dialog.locator('table.variants tbody tr', { hasText: ops }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'library-asset.png'), fullPage: false });
  }, 90_000);

  it('no request left the page server and Tessera', () => {
    expect(requests.length).toBeGreaterThan(10);
    const foreign = requests.filter((line) => {
      const url = line.slice(line.indexOf(' ') + 1);
      return (
        !url.startsWith(`${siteOrigin}/`) && !url.startsWith(`${t.baseUrl}/`) && !url.startsWith('data:')
      );
    });
    expect(foreign).toEqual([]);
  });
});
