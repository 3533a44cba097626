/**
 * A real Chromium (Debian's package) driven by playwright-core, for the pages the router serves.
 * Every request to a host other than the local platform is aborted and recorded, and name
 * resolution fails for every other name, so a page that still reaches for a CDN fails here as it
 * would on a machine without internet.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../lib';

export type { Page } from 'playwright-core';

/** Debian's chromium package; playwright-core drives it and downloads no browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Browser tests run where Chromium is installed and are skipped elsewhere, so `npm test` works on a
 * machine without it; CI installs it and sets REQUIRE_BROWSER=1, so a missing browser fails there.
 */
export const browserAvailable = existsSync(CHROMIUM_PATH) || process.env.REQUIRE_BROWSER === '1';
const PLATFORM_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface TestBrowser {
  /** A fresh page, in a context of its own (no shared storage), that reaches only the platform. */
  page(): Promise<Page>;
  close(): Promise<void>;
  /** Every URL a page tried to reach outside the platform (and was refused). */
  blocked: string[];
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox', // tests run as root
      '--disable-gpu',
      '--disable-quic',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const blocked: string[] = [];
  return {
    blocked,
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:' || PLATFORM_HOSTS.has(url.hostname))
          return route.continue();
        blocked.push(url.href);
        return route.abort('blockedbyclient');
      });
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** Writes what the page shows as test-artifacts/<name>.png (gitignored) for a person to look at. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  const dir = join(projectRoot(), 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}
