/**
 * 002's browser tool, rows of the runtime dialect: the caller's headless browser session, its
 * status, start and stop, and its actions. Shapes follow Ironclad's handlers (admin/operator_tools.rs)
 * and its ActionResult: an action that fails is 400 with `{action, success: false, data, error}`.
 */
import {
  BrowserActionDocument,
  BrowserStartDocument,
  BrowserStatusDocument,
  BrowserStopDocument,
  type BrowserActionKind,
} from '../generated/graphql';
import { fromBody, oneOf, required } from '../mapping';
import { route, type ErrorStyle } from '../types';
import { runtime } from './runtime.errors';

const ACTIONS: BrowserActionKind[] = [
  'NAVIGATE',
  'CLICK',
  'TYPE',
  'SCREENSHOT',
  'PDF',
  'EVALUATE',
  'GET_COOKIES',
  'CLEAR_COOKIES',
  'READ_PAGE',
  'GO_BACK',
  'GO_FORWARD',
  'RELOAD',
];

/** Ironclad's tag names its actions in PascalCase (`ReadPage`); its results in snake_case (`read_page`): both are read. */
const ACTION_WORDS = Object.fromEntries(
  ACTIONS.flatMap((kind) => {
    const snake = kind.toLowerCase();
    const pascal = snake.replace(/(^|_)(\w)/g, (_, _sep: string, letter: string) => letter.toUpperCase());
    return [
      [pascal, kind],
      [snake, kind],
    ];
  }),
);

/** A failed action in Ironclad's ActionResult form; other refusals (401, bad input) in 002's `{"error"}`. */
const actionErrors: ErrorStyle = {
  ...runtime,
  body: (problem) =>
    typeof problem.extensions?.action === 'string'
      ? { action: problem.extensions.action, success: false, data: null, error: problem.message }
      : runtime.body(problem),
};

export const runtimeBrowserRoutes = [
  route({
    method: 'GET',
    path: '/api/browser/status',
    summary: 'Your headless browser session: running or not, and whether the server has a browser',
    operation: BrowserStatusDocument,
    shape: ({ browserStatus: s }) => ({
      running: s.running,
      enabled: s.enabled,
      headless: s.headless,
      // Ironclad's DevTools port; playwright drives this browser over a pipe, so none is open.
      cdp_port: null,
      url: s.url ?? null,
      started_at: s.startedAt ?? null,
      last_used_at: s.lastUsedAt ?? null,
      idle_timeout_seconds: s.idleTimeoutSeconds,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/browser/start',
    summary: 'Starts your headless browser session (503 without a browser, or when all sessions are in use)',
    operation: BrowserStartDocument,
    shape: ({ startBrowser }) =>
      startBrowser.status === 'STARTED'
        ? { status: 'started', cdp_port: null }
        : { status: 'already_running' },
  }),
  route({
    method: 'POST',
    path: '/api/browser/stop',
    summary: 'Closes your browser session (stopped whether or not one was running)',
    operation: BrowserStopDocument,
    shape: () => ({ status: 'stopped' }),
  }),
  route({
    method: 'POST',
    path: '/api/browser/action',
    summary: 'Runs an action in your browser session: Navigate, Click, Type, Screenshot, ReadPage, …',
    operation: BrowserActionDocument,
    variables: {
      'input.action': required(fromBody('action', oneOf(ACTION_WORDS), "Ironclad's action tag")),
      'input.url': fromBody('url', undefined, 'Navigate: an http(s) URL on a public address'),
      'input.selector': fromBody('selector', undefined, 'Click, Type: a CSS selector (its first match)'),
      'input.text': fromBody('text', undefined, 'Type: the text inserted'),
      'input.expression': fromBody('expression', undefined, 'Evaluate: JavaScript run in the page'),
    },
    shape: ({ browserAction: r }) => ({
      action: r.action,
      success: r.success,
      data: r.data ?? null,
      error: null,
    }),
    failure: ({ browserAction: r }) =>
      r.success
        ? undefined
        : {
            status: 400,
            code: 'BAD_USER_INPUT',
            message: r.error ?? 'failed',
            extensions: { action: r.action },
          },
    errors: actionErrors,
  }),
];
