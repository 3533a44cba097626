import { existsSync } from 'node:fs';
import { loadConfig, parseAddressAllowlist, type AddressAllowlist } from '../../../lib';

/** Where Debian, Ubuntu and Google install a Chromium playwright-core can drive. */
const KNOWN_EXECUTABLES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export interface BrowserSettings {
  /** The browser to run, or null when none is installed (every start then answers 503). */
  executable: string | null;
  /** Why there is no executable, for the 503's message. */
  missing: string;
  allowlist: AddressAllowlist;
  maxSessions: number;
  idleMs: number;
  pageTimeoutMs: number;
  maxTextChars: number;
  maxScreenshotBytes: number;
}

let parsedAllowlist: { text: string; allowlist: AddressAllowlist } | undefined;

/** Read on each use, like the other user-URL allowlists, so an operator's change needs no restart. */
export function browserSettings(): BrowserSettings {
  const config = loadConfig();
  const configured = config.BROWSER_EXECUTABLE;
  const executable = configured
    ? existsSync(configured)
      ? configured
      : null
    : (KNOWN_EXECUTABLES.find((path) => existsSync(path)) ?? null);
  if (parsedAllowlist?.text !== config.BROWSER_ALLOW_HOSTS)
    parsedAllowlist = {
      text: config.BROWSER_ALLOW_HOSTS,
      allowlist: parseAddressAllowlist(config.BROWSER_ALLOW_HOSTS),
    };
  return {
    executable,
    missing: configured
      ? `no browser at BROWSER_EXECUTABLE (${configured})`
      : 'no browser installed (apt-get install chromium, or set BROWSER_EXECUTABLE)',
    allowlist: parsedAllowlist.allowlist,
    maxSessions: config.BROWSER_MAX_SESSIONS,
    idleMs: config.BROWSER_IDLE_SECONDS * 1000,
    pageTimeoutMs: config.BROWSER_PAGE_TIMEOUT_MS,
    maxTextChars: config.BROWSER_MAX_TEXT_CHARS,
    maxScreenshotBytes: config.BROWSER_MAX_SCREENSHOT_BYTES,
  };
}
