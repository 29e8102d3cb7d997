import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';

describeWith(['chromium'], 'GraphQL playground in Chromium', () => {
  let t: TestTessera;
  let browser: Browser;

  beforeAll(async () => {
    // Embedded mode: the playground is prefilled with the bootstrap key for local clients.
    t = await startTestTessera({ registry: 'pglite' });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('opens offline, runs the example viewer query with the prefilled key and shows the answer', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (
        !request.url().startsWith(t.baseUrl) &&
        !request.url().startsWith('data:') &&
        !request.url().startsWith('blob:')
      )
        foreign.push(request.url());
    });
    await page.goto(`${t.baseUrl}/graphql`, { waitUntil: 'load' });
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await response.filter({ hasText: 'API_KEY' }).waitFor({ timeout: 30_000 });
    const result = (await response.innerText()).replace(/\s+/g, ' ');
    expect(result).toContain('"kind": "API_KEY"');
    expect(result).toContain(t.boot.organizationId);
    await page.screenshot({ path: 'test/.artifacts/playground.png' });
    expect(foreign).toEqual([]);
    await context.close();
  }, 90_000);

  it('serves the page without the key to clients behind a proxy', async () => {
    const local = await (await fetch(`${t.baseUrl}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(local).toContain(t.boot.apiKey);
    const proxied = await (
      await fetch(`${t.baseUrl}/graphql`, {
        headers: { accept: 'text/html', 'x-forwarded-for': '203.0.113.9' },
      })
    ).text();
    expect(proxied).toContain('<html');
    expect(proxied).not.toContain(t.boot.apiKey);
    expect(proxied).not.toMatch(/(src|href)=["']https?:\/\//i);
  });
});
