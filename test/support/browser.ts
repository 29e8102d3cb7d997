/** Headless Chromium (Debian's build) through playwright-core, with the flags this network needs. */
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './services.js';

/** Launches Chromium with a fresh temporary profile (playwright makes and removes it). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
