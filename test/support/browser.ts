import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../lib';

/** Debian's chromium package; playwright-core drives it and downloads no browser of its own. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface TestBrowser {
  /** A fresh page (in a context of its own) that reaches nothing but this machine's loopback. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium whose pages reach only the platform under test: any request to a host other
 * than the loopback is aborted, and name resolution fails for every other name, so a page that
 * would load a script from a CDN shows it.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', // tests run as root
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  return {
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.route('**/*', (route) =>
        LOOPBACK.has(new URL(route.request().url()).hostname)
          ? route.continue()
          : route.abort('blockedbyclient'),
      );
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png (gitignored) for people to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(projectRoot(), 'test-artifacts');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
