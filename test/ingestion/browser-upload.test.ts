/**
 * The presigned direct upload as a browser does it: headless Chromium loads a page holding an
 * HTML form built from `createUpload`'s answer, a real photograph is chosen in its file input, the
 * form is submitted straight to storage (Tessera's own `/uploads` on local disk, the S3 API
 * server on S3), and `completeUpload` turns it into the asset.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { fixture, fixturePath } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { codes, startTestTessera, type TestTessera } from '../support/tessera.js';
import {
  completeUpload,
  createUpload,
  holdings,
  JOBS_OFF,
  loopbackServer,
  originalsOf,
  rowId,
  sha256,
  uploadRow,
  type LoopbackServer,
  type PresignedUploadView,
} from './ingest-client.js';

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page a front end would render: the presigned fields as hidden inputs, then the file input. */
function uploadPage(upload: PresignedUploadView): string {
  const hidden = Object.entries(upload.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  return `<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>Upload a photograph</title></head>
  <body>
    <form id="upload" method="post" enctype="multipart/form-data" action="${escapeHtml(upload.url)}">
      ${hidden}
      <input type="file" name="file" accept="image/*">
      <button type="submit">Upload</button>
    </form>
  </body>
</html>`;
}

function browserUpload(storage: 'local' | 's3'): void {
  let t: TestTessera;
  let browser: Browser;
  let site: LoopbackServer;
  let page = '';

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestTessera({ storage, env: JOBS_OFF }), launchBrowser()]);
    site = await loopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await t?.close();
  });

  it('uploads a photograph through an HTML form POST, then completeUpload returns the asset', async () => {
    const photo = fixture('hubble_deep_field.jpg');
    const created = await createUpload(t, {
      filename: 'hubble_deep_field.jpg',
      contentType: 'image/jpeg',
      bytes: photo.length,
      tags: ['Space', 'NASA'],
      folder: 'deep field',
    });
    expect(created.errors).toBeUndefined();
    const upload = created.data!.createUpload;
    expect(upload.method).toBe('POST');
    expect(new URL(upload.url).origin).toBe(
      storage === 'local' ? t.baseUrl : new URL(t.tessera.config.s3Endpoint!).origin,
    );
    page = uploadPage(upload);

    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${site.origin}/upload`);
    await tab.setInputFiles('input[name="file"]', fixturePath('hubble_deep_field.jpg'));
    const [posted] = await Promise.all([
      tab.waitForResponse(
        (response) => response.request().method() === 'POST' && response.url().startsWith(upload.url),
        { timeout: 30_000 },
      ),
      tab.click('button[type="submit"]'),
    ]);
    expect(posted.status()).toBeGreaterThanOrEqual(200);
    expect(posted.status()).toBeLessThan(300);
    const sent = posted.request();
    expect(sent.headers()['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    await context.close();

    const staged = (await uploadRow(t, rowId(upload.uploadId))).storage_key;
    expect(sha256(await t.tessera.store.readBuffer(staged))).toBe(sha256(photo));

    const completed = await completeUpload(t, upload.uploadId);
    expect(completed.errors).toBeUndefined();
    expect(completed.data?.completeUpload).toMatchObject({
      filename: 'hubble_deep_field.jpg',
      format: 'jpeg',
      width: 1000,
      height: 872,
      sha256: sha256(photo),
      tags: ['space', 'nasa'],
      folder: 'deep field',
    });
    expect(completed.data?.completeUpload.exif).toMatchObject({
      Image: { Software: 'Adobe Photoshop CS5 Macintosh' },
    });
    const { objects } = await holdings(t);
    expect(originalsOf(objects, t.boot.spaceId)).toHaveLength(1);
    expect(objects).not.toContain(staged);
  }, 90_000);

  it('completes nothing when the browser sent a file that is not the declared type', async () => {
    const text = Buffer.from('not a photograph at all\n'.repeat(40));
    const created = (
      await createUpload(t, {
        filename: 'rocket.jpg',
        contentType: 'image/jpeg',
        bytes: fixture('rocket.jpg').length,
      })
    ).data!.createUpload;
    page = uploadPage(created);
    const before = await holdings(t);
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${site.origin}/upload`);
    await tab.setInputFiles('input[name="file"]', {
      name: 'rocket.jpg',
      mimeType: 'image/jpeg',
      buffer: text,
    });
    const [posted] = await Promise.all([
      tab.waitForResponse(
        (response) => response.request().method() === 'POST' && response.url().startsWith(created.url),
        { timeout: 30_000 },
      ),
      tab.click('button[type="submit"]'),
    ]);
    expect(posted.status()).toBeLessThan(300);
    await context.close();
    const completed = await completeUpload(t, created.uploadId);
    expect(codes(completed)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(await uploadRow(t, rowId(created.uploadId))).toMatchObject({
      status: 'failed',
      error_code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await holdings(t)).toEqual(before);
  }, 90_000);
}

describeWith(['chromium'], 'ingestion: direct upload from Chromium to local disk (/uploads)', () =>
  browserUpload('local'),
);
describeWith(['chromium', 's3'], 'ingestion: direct upload from Chromium to S3', () => browserUpload('s3'));
