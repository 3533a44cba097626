/**
 * What an account's browser can be told to do: Ironclad's twelve actions (ironclad-browser's
 * BrowserAction), each answered as its ActionResult `{action, success, data, error}`. A refused or
 * failed action is a result with `success: false`, never a thrown error.
 */
import type { Page, Response } from 'playwright-core';
import { NonPublicAddressError } from '../../../lib';
import { checkBrowserUrl, REFUSED_HEADER } from './browser.guard';
import { inSession, VIEWPORT } from './browser.sessions';
import { browserSettings, type BrowserSettings } from './browser.settings';

export const BROWSER_ACTIONS = [
  'navigate',
  'click',
  'type',
  'screenshot',
  'pdf',
  'evaluate',
  'get_cookies',
  'clear_cookies',
  'read_page',
  'go_back',
  'go_forward',
  'reload',
] as const;
export type BrowserActionName = (typeof BROWSER_ACTIONS)[number];

export interface BrowserAction {
  action: BrowserActionName;
  /** navigate */
  url?: string | null;
  /** click, type: a CSS (or playwright) selector; its first match is used. */
  selector?: string | null;
  /** type: inserted where the selected element's caret is. */
  text?: string | null;
  /** evaluate: a JavaScript expression run in the page. */
  expression?: string | null;
}

export interface BrowserActionResult {
  action: BrowserActionName;
  success: boolean;
  data: unknown;
  error: string | null;
}

export const MAX_URL_LENGTH = 2048;
export const MAX_SELECTOR_LENGTH = 500; // Ironclad's
export const MAX_TYPED_TEXT_LENGTH = 10_000;
export const MAX_EXPRESSION_LENGTH = 10_000;
/** The most cookies GetCookies lists (`count` is all of them). */
export const MAX_COOKIES_LISTED = 500;

/** Why an action cannot run as asked; its message is the result's error. */
class ActionRefused extends Error {}

const needed = (value: string | null | undefined, name: string, max: number): string => {
  if (!value) throw new ActionRefused(`${name} is required`);
  if (value.length > max) throw new ActionRefused(`${name} must be at most ${max} characters`);
  return value;
};

/** A navigation that ended at the guard's refusal (a redirect to a private address) failed. */
function arrived(response: Response | null) {
  const refused = response?.headers()[REFUSED_HEADER];
  if (refused) throw new ActionRefused(`refused: ${decodeURIComponent(refused)}`);
  return response?.status() ?? null;
}

const where = async (page: Page) => ({ url: page.url(), title: await page.title() });

async function navigate(page: Page, action: BrowserAction) {
  const text = needed(action.url, 'url', MAX_URL_LENGTH);
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url) throw new ActionRefused(`url ${JSON.stringify(text)} is not an absolute URL`);
  try {
    await checkBrowserUrl(url);
  } catch (error) {
    throw new ActionRefused(`refused: ${(error as Error).message}`);
  }
  const status = arrived(await page.goto(url.href));
  return { ...(await where(page)), status };
}

/** Bytes of a capture, refused above BROWSER_MAX_SCREENSHOT_BYTES. */
function capture(bytes: Buffer, { maxScreenshotBytes }: BrowserSettings) {
  if (bytes.length > maxScreenshotBytes)
    throw new ActionRefused(`the capture is ${bytes.length} bytes, more than ${maxScreenshotBytes}`);
  const data = bytes.toString('base64');
  return { bytes: bytes.length, data_base64_length: data.length, data };
}

/** The page's text, cut at BROWSER_MAX_TEXT_CHARS inside the page (no more ever crosses over). */
const readPage = (max: number) => `(() => {
  const text = document.body ? document.body.innerText : '';
  return {
    url: location.href,
    title: document.title,
    text: text.substring(0, ${max}),
    text_length: text.length,
    truncated: text.length > ${max},
    html_length: document.documentElement ? document.documentElement.outerHTML.length : 0,
  };
})()`;

async function evaluate(page: Page, action: BrowserAction, { maxTextChars }: BrowserSettings) {
  const expression = needed(action.expression, 'expression', MAX_EXPRESSION_LENGTH);
  const value: unknown = await page.evaluate(expression);
  const size = JSON.stringify(value ?? null).length;
  if (size > maxTextChars)
    throw new ActionRefused(`the value is ${size} characters of JSON, more than ${maxTextChars}`);
  return { type: value === null ? 'object' : typeof value, value: value ?? null };
}

type Handler = (page: Page, action: BrowserAction, settings: BrowserSettings) => Promise<unknown>;

const HANDLERS: Record<BrowserActionName, Handler> = {
  navigate,
  async click(page, action) {
    const selector = needed(action.selector, 'selector', MAX_SELECTOR_LENGTH);
    await page.locator(selector).first().click();
    // A click that follows a link answers once the page it opens has loaded.
    await page.waitForLoadState('load');
    return { selector, ...(await where(page)) };
  },
  async type(page, action) {
    const selector = needed(action.selector, 'selector', MAX_SELECTOR_LENGTH);
    const text = needed(action.text, 'text', MAX_TYPED_TEXT_LENGTH);
    await page.locator(selector).first().focus();
    await page.keyboard.insertText(text);
    return { selector, text, length: text.length };
  },
  async screenshot(page, _action, settings) {
    const shot = capture(await page.screenshot({ type: 'png' }), settings);
    return { format: 'png', ...VIEWPORT, approximate_bytes: shot.bytes, ...shot };
  },
  async pdf(page, _action, settings) {
    return { format: 'pdf', ...capture(await page.pdf({ printBackground: true }), settings) };
  },
  evaluate,
  async get_cookies(page) {
    const cookies = await page.context().cookies();
    return { cookies: cookies.slice(0, MAX_COOKIES_LISTED), count: cookies.length };
  },
  async clear_cookies(page) {
    await page.context().clearCookies();
    return { cleared: true };
  },
  read_page: (page, _action, { maxTextChars }) => page.evaluate(readPage(maxTextChars)),
  async go_back(page) {
    const status = arrived(await page.goBack());
    return { navigated: 'back', ...(await where(page)), status };
  },
  async go_forward(page) {
    const status = arrived(await page.goForward());
    return { navigated: 'forward', ...(await where(page)), status };
  },
  async reload(page) {
    const status = arrived(await page.reload());
    return { reloaded: true, ...(await where(page)), status };
  },
};

/** Playwright's messages run over several lines of call log; the first says what happened. */
const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();

/**
 * Runs an action in the account's browser session (see `startBrowser`); the result says whether it
 * worked. This is the browser's interface for tools: a plugin wraps it as it is.
 */
export async function browserAction(ownerId: string, action: BrowserAction): Promise<BrowserActionResult> {
  const name = action.action;
  const fail = (error: string): BrowserActionResult => ({ action: name, success: false, data: null, error });
  const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (!handler) return fail(`unknown action; one of ${BROWSER_ACTIONS.join(', ')}`);
  const settings = browserSettings();
  // Each step has the page timeout; the whole action a little more, then its page is replaced.
  const running = inSession(ownerId, settings.pageTimeoutMs * 2 + 1000, (page) =>
    handler(page, action, settings),
  );
  if (!running) return fail('browser not started');
  try {
    return { action: name, success: true, data: await running, error: null };
  } catch (error) {
    if (error instanceof ActionRefused || error instanceof NonPublicAddressError) return fail(error.message);
    return fail(`${name.replace('_', ' ')} failed: ${firstLine(error)}`);
  }
}
