/**
 * The browser tool: a headless Chromium per server process, one context per account. Tools (a
 * built-in plugin) drive it through these functions with the account they act for.
 */
export {
  browserAction,
  BROWSER_ACTIONS,
  type BrowserAction,
  type BrowserActionResult,
} from './browser.actions';
export { BrowserResolver } from './browser.resolver';
export { browserSettings } from './browser.settings';
export {
  browserState,
  closeSession as stopBrowser,
  openSession as startBrowser,
  runBrowserSessions,
  sessionCount as browserSessionCount,
  type BrowserState,
} from './browser.sessions';
