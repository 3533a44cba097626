/**
 * The browser sessions of this process: one Chromium (launched with the first session, closed
 * with the last), and in it one context of its own per account (cookies, storage and cache apart),
 * with one page. Sessions live in the process that started them; at most BROWSER_MAX_SESSIONS at a
 * time, closed when idle and at shutdown.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppError, type Logger } from '../../../lib';
import { mayRequest, startGuardProxy, type GuardProxy } from './browser.guard';
import { browserSettings } from './browser.settings';

export const VIEWPORT = { width: 1280, height: 800 };

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  startedAt: Date;
  lastUsedAt: Date;
  /** The action running now; the next one waits for it (one page, one action at a time). */
  queue: Promise<unknown>;
}

interface RunningBrowser {
  browser: Browser;
  proxy: GuardProxy;
}

let running: Promise<RunningBrowser> | undefined;
const sessions = new Map<string, BrowserSession>();
const opening = new Map<string, Promise<BrowserSession>>();

async function launch(executable: string): Promise<RunningBrowser> {
  // Loaded with the first session: playwright-core takes about a second to load.
  const { chromium } = await import('playwright-core');
  const proxy = await startGuardProxy();
  try {
    const browser = await chromium.launch({
      executablePath: executable,
      headless: true,
      // Every connection goes through the guard; playwright also sends loopback there (<-loopback>).
      proxy: { server: proxy.url },
      args: [
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), // Chromium refuses root with its sandbox
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        // WebRTC could otherwise send UDP around the proxy, to any address.
        '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    return { browser, proxy };
  } catch (error) {
    await proxy.close();
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new AppError('UPSTREAM_UNAVAILABLE', `the browser at ${executable} did not start: ${reason}`);
  }
}

/** The process's Chromium, launched on first use; a crash forgets it and every session in it. */
function ensureBrowser(): Promise<RunningBrowser> {
  if (running) return running;
  const { executable, missing } = browserSettings();
  if (!executable) throw new AppError('UPSTREAM_UNAVAILABLE', missing);
  const launched = launch(executable);
  running = launched;
  launched.then(
    ({ browser, proxy }) =>
      browser.on('disconnected', () => {
        if (running === launched) running = undefined;
        // Only this browser's: a new one may already serve sessions opened since it was closed.
        for (const [owner, session] of sessions)
          if (session.context.browser() === browser) sessions.delete(owner);
        void proxy.close();
      }),
    () => {
      if (running === launched) running = undefined;
    },
  );
  return launched;
}

/** Contexts opening their session's page now; any other page that opens in them is a pop-up. */
const openingPage = new WeakSet<BrowserContext>();

async function newPage(context: BrowserContext): Promise<Page> {
  openingPage.add(context);
  const page = await context.newPage().finally(() => openingPage.delete(context));
  page.setDefaultTimeout(browserSettings().pageTimeoutMs);
  // alert()/confirm() would hold every later action; nobody is there to answer them.
  page.on('dialog', (dialog) => void dialog.dismiss().catch(() => undefined));
  return page;
}

async function open(): Promise<BrowserSession> {
  const { browser } = await ensureBrowser();
  const context = await browser.newContext({
    viewport: VIEWPORT,
    acceptDownloads: false,
    serviceWorkers: 'block', // a service worker's requests would bypass the routing below
  });
  try {
    await context.route('**/*', async (route) =>
      (await mayRequest(route.request().url())) ? route.continue() : route.abort('blockedbyclient'),
    );
    const now = new Date();
    const session: BrowserSession = {
      context,
      page: await newPage(context),
      startedAt: now,
      lastUsedAt: now,
      queue: Promise.resolve(),
    };
    // One page per session: pop-ups are closed as they open.
    context.on('page', (other) => {
      if (other !== session.page && !openingPage.has(context)) void other.close().catch(() => undefined);
    });
    return session;
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
}

/** Opens the account's session; false when it already had one. */
export async function openSession(ownerId: string): Promise<boolean> {
  if (sessions.has(ownerId)) return false;
  const pending = opening.get(ownerId);
  if (pending) return pending.then(() => false);
  const { maxSessions } = browserSettings();
  if (sessions.size + opening.size >= maxSessions)
    throw new AppError(
      'UPSTREAM_UNAVAILABLE',
      `all ${maxSessions} browser sessions of this server are in use; try again later`,
    );
  const session = open();
  opening.set(ownerId, session);
  try {
    sessions.set(ownerId, await session);
    return true;
  } finally {
    opening.delete(ownerId);
  }
}

export const sessionCount = () => sessions.size;

/** Closes the account's session (after its running action); false when it had none. */
export async function closeSession(ownerId: string): Promise<boolean> {
  const session = sessions.get(ownerId);
  if (!session) return false;
  sessions.delete(ownerId);
  await session.queue.catch(() => undefined);
  await session.context.close().catch(() => undefined);
  await closeBrowserIfUnused();
  return true;
}

/** Without sessions, Chromium is not kept running (nor its memory held). */
async function closeBrowserIfUnused() {
  if (sessions.size || opening.size || !running) return;
  const closing = running;
  running = undefined;
  const { browser, proxy } = await closing.catch(() => ({ browser: undefined, proxy: undefined }));
  await browser?.close().catch(() => undefined);
  await proxy?.close();
}

/**
 * Runs one action on the account's page, after the one before it; within `deadlineMs` or the page
 * is replaced (a script that never returns leaves its renderer busy for good). Undefined when the
 * account has no session.
 */
export function inSession<T>(
  ownerId: string,
  deadlineMs: number,
  act: (page: Page) => Promise<T>,
): Promise<T> | undefined {
  const session = sessions.get(ownerId);
  if (!session) return undefined;
  const run = session.queue.then(async () => {
    session.lastUsedAt = new Date();
    if (session.page.isClosed()) session.page = await newPage(session.context);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`no result within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    try {
      return await Promise.race([act(session.page), deadline]);
    } catch (error) {
      if (timedOut) {
        const stuck = session.page;
        session.page = await newPage(session.context);
        void stuck.close({ runBeforeUnload: false }).catch(() => undefined);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      session.lastUsedAt = new Date();
    }
  });
  session.queue = run.catch(() => undefined);
  return run;
}

/** Closes sessions unused for longer than BROWSER_IDLE_SECONDS; how many it closed. */
export async function closeIdleSessions(now = Date.now()): Promise<number> {
  const { idleMs } = browserSettings();
  const idle = [...sessions].filter(([, s]) => now - s.lastUsedAt.getTime() > idleMs).map(([owner]) => owner);
  await Promise.all(idle.map(closeSession));
  return idle.length;
}

/** At shutdown: every session and the browser. */
export async function closeAllSessions(): Promise<void> {
  await Promise.all([...opening.values()].map((s) => s.catch(() => undefined)));
  await Promise.all([...sessions.keys()].map(closeSession));
  await closeBrowserIfUnused();
}

/** Sweeps idle sessions while the subgraph runs; the stop closes them all. */
export function runBrowserSessions(log: Logger): { stop(): Promise<void> } {
  const sweep = () =>
    closeIdleSessions()
      .then((closed) => closed && log.info({ closed }, 'closed idle browser sessions'))
      .catch((error: unknown) => log.error({ err: error }, 'idle browser sweep failed'));
  const sweeper = setInterval(sweep, Math.min(30_000, browserSettings().idleMs / 2));
  return {
    async stop() {
      clearInterval(sweeper);
      await closeAllSessions();
    },
  };
}

export interface BrowserState {
  /** Whether the account has a session in this process. */
  running: boolean;
  /** Whether a browser is installed (BROWSER_EXECUTABLE, or one found). */
  enabled: boolean;
  url: string | null;
  startedAt: Date | null;
  lastUsedAt: Date | null;
  idleTimeoutSeconds: number;
}

export function browserState(ownerId: string): BrowserState {
  const session = sessions.get(ownerId);
  const settings = browserSettings();
  return {
    running: Boolean(session),
    enabled: settings.executable !== null,
    url: session && !session.page.isClosed() ? session.page.url() : null,
    startedAt: session?.startedAt ?? null,
    lastUsedAt: session?.lastUsedAt ?? null,
    idleTimeoutSeconds: settings.idleMs / 1000,
  };
}
