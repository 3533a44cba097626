/**
 * A real Chromium (Debian's package) driven by playwright-core, for the pages the router serves.
 * Every request to a host other than the local platform is aborted, so a page that still reaches
 * for a CDN fails here as it would on a machine without internet.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

export type { Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PLATFORM_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

export interface TestBrowser {
  /** A new tab in the browser's one context. */
  page(): Promise<Page>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
  /** Every URL the browser tried to reach outside the platform (and was refused). */
  blocked: string[];
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'agentry-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || PLATFORM_HOSTS.has(url.hostname))
      return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return {
    blocked,
    page: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Writes what the page shows as test-artifacts/<name>.png (gitignored) for a person to look at. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}
