/**
 * The live dashboard in Debian's Chromium, with the network to anything but the platform blocked:
 * it signs in, streams a chat answer token by token, shows a task event within a second of the
 * mutation, and after its socket is cut resumes with what it missed, each event once.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import type { Page } from 'playwright-core';
import { ADMIN_FIGURES } from '../dashboard/src/operations';
import { buildDashboard } from '../scripts/dashboard';
import { grantCredits } from '../subgraphs/wallet/ledger/ledger.service';
import {
  ChatDocument,
  CreateApiKeyDocument,
  CreateTaskDocument,
  StoreMemoryDocument,
} from './generated/graphql';
import { browserAvailable, launchBrowser, screenshot, type TestBrowser } from './support/browser';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { errorOf, registerAdmin } from './tasks.support';
import { walletDeps } from './wallet.support';

const browserTest = browserAvailable ? test : test.skip;

let t: TestPlatform;
let llm: LlmDouble;
let browser: TestBrowser;
let page: Page;
let user: User;
/** Requests the page tried to send anywhere but the platform. */
const blocked: string[] = [];

beforeAll(async () => {
  await buildDashboard();
  llm = await startLlmDouble();
  useUpstream(llm);
  t = await startTestPlatform();
  user = await t.register('Dana');
  browser = await launchBrowser();
  page = await browser.page();
  page.on('requestfailed', (request) => {
    if (!request.url().startsWith(t.url)) blocked.push(request.url());
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await llm?.close();
});

const rowsOf = (panel: string) => page.locator(`#${panel} .rows > li`);

const createTask = (title: string) =>
  user.data(CreateTaskDocument, { input: { title, rewardMinor: '0' } }).then((d) => d.createTask);

browserTest(
  'serves its built files with their content types and caching; nothing else under /dashboard',
  async () => {
    const redirect = await fetch(`${t.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/dashboard/');

    const index = await fetch(`${t.url}/dashboard/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await index.text();
    expect(html).not.toMatch(/https?:\/\//);
    const script = /src="(\/dashboard\/main-\w+\.js)"/.exec(html)?.[1];
    const style = /href="(\/dashboard\/style-\w+\.css)"/.exec(html)?.[1];
    expect(script && style).toBeTruthy();

    const js = await fetch(`${t.url}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${t.url}${style}`, { method: 'HEAD' });
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);

    for (const path of ['/dashboard/nothing.js', '/dashboard/..%2Fpackage.json', '/dashboard/a/b.js'])
      expect((await fetch(`${t.url}${path}`)).status).toBe(404);
    expect((await fetch(`${t.url}/dashboard/`, { method: 'POST', body: '{}' })).status).toBe(405);
  },
);

browserTest(
  'refuses a wrong password with the platform’s message, then signs in with e-mail and password',
  async () => {
    await page.goto(`${t.url}/dashboard/`);
    await page.fill('[name=email]', user.email);
    await page.fill('[name=password]', 'not the password');
    await page.click('#sign-in-form button');
    await page.waitForFunction(() => document.querySelector('#sign-in-error')?.textContent !== '');
    expect(await page.locator('#board').isHidden()).toBe(true);

    await page.fill('[name=password]', user.password);
    await page.click('#sign-in-form button');
    await page.waitForSelector('#connection[data-state=live]');
    expect(await page.textContent('#who')).toBe('Dana');
    // Health, providers and the caller's budget fill in from the platform.
    await page.waitForFunction(() => document.querySelector('#health dd')?.textContent === 'ok');
    await page.waitForSelector('#providers dd');
    expect(await page.textContent('#budget dd')).toMatch(/^\d+ of 1000000$/);
    await screenshot(page, 'dashboard-signed-in');
  },
);

browserTest('shows a chat answer token by token as it streams', async () => {
  // Every text the answer shows, as the page shows it (the `slow` model sends ten tokens 150 ms apart).
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { answers: string[] }).answers = []);
    new MutationObserver(() => {
      const text = document.querySelector('#chat .turn .answer')?.textContent ?? '';
      if (text !== seen.at(-1)) seen.push(text);
    }).observe(document.querySelector('#chat .rows')!, {
      childList: true,
      subtree: true,
      characterData: true,
    });
  });
  await page.fill('#chat-form [name=content]', 'Count for me');
  await page.fill('#chat-form [name=model]', 'slow');
  await page.click('#chat-form button');
  await page.waitForSelector('#chat .turn.completed', { timeout: 10_000 });

  const full = Array.from({ length: 10 }, (_, i) => `w${i} `).join('');
  const answers = await page.evaluate(() => (window as unknown as { answers: string[] }).answers);
  expect(answers.at(-1)).toBe(full);
  // Shown growing: several partial answers, each a prefix of the next, before the whole one.
  const partial = answers.filter((text) => text && text !== full);
  expect(partial.length).toBeGreaterThanOrEqual(3);
  for (const [i, text] of answers.entries()) if (i) expect(text.startsWith(answers[i - 1])).toBe(true);
  expect(await page.textContent('#chat .turn .state')).toMatch(/^completed · \d+ tokens$/);
  await screenshot(page, 'dashboard-chat');
});

browserTest('shows a task event within a second of the mutation', async () => {
  // The router opens its upstream subscription asynchronously: a first event proves it is open.
  let warmUp = 0;
  while (!(await rowsOf('tasks').count())) {
    expect(++warmUp).toBeLessThan(50);
    await createTask(`warm-up ${warmUp}`);
    await page.waitForTimeout(200);
  }
  const task = await createTask('Review the dashboard');
  await page.waitForSelector(`#tasks li[data-task="${task.id}"]`, { timeout: 1000 });
  expect(await rowsOf('tasks').first().textContent()).toContain('Review the dashboard');
});

browserTest('resumes after its socket is cut: what happened meanwhile shows once, in order', async () => {
  const sessionId = await page.getAttribute('#chat .turn', 'data-session');
  const tasksBefore = await rowsOf('tasks').count();

  await page.context().setOffline(true);
  await page.waitForSelector('#connection[data-state=reconnecting]');
  const titles = ['while offline 1', 'while offline 2', 'while offline 3'];
  const ids: string[] = [];
  for (const title of titles) ids.push((await createTask(title)).id);
  const { chat } = await user.data(ChatDocument, {
    input: { sessionId, content: 'And again?', model: 'double-1' },
  });
  const { storeMemory } = await user.data(StoreMemoryDocument, {
    input: { content: 'Stored while the dashboard was offline', category: 'offline' },
  });
  await screenshot(page, 'dashboard-offline');

  await page.context().setOffline(false);
  await page.waitForSelector('#connection[data-state=live]');
  await page.waitForSelector(`#tasks li[data-task="${ids[2]}"]`, { timeout: 10_000 });
  await page.waitForSelector(`#chat li[data-turn="${chat.id}"].completed`, { timeout: 10_000 });
  await page.waitForSelector(`#memory li[data-entry="${storeMemory.id}"]`, { timeout: 10_000 });

  // Each missed task event once, in order, after everything shown before the cut.
  const rows = await rowsOf('tasks').evaluateAll((lis) =>
    lis.map((li) => ({ seq: (li as HTMLElement).dataset.seq!, task: (li as HTMLElement).dataset.task! })),
  );
  expect(rows).toHaveLength(tasksBefore + 3);
  expect(rows.slice(0, 3).map((r) => r.task)).toEqual([...ids].reverse());
  const seqs = rows.map((r) => BigInt(r.seq));
  for (const [i, seq] of seqs.entries()) if (i) expect(seq < seqs[i - 1]).toBe(true);
  // The chat turn answered during the gap, whole.
  expect(await page.textContent(`#chat li[data-turn="${chat.id}"] .answer`)).toBe(ANSWER.join(''));
  // Live again: a new event arrives on the new socket.
  const after = await createTask('after the reconnect');
  await page.waitForSelector(`#tasks li[data-task="${after.id}"]`, { timeout: 5000 });
  await screenshot(page, 'dashboard-resumed');
  expect(blocked).toEqual([]);
});

browserTest('shows wallet movements as they are committed', async () => {
  await grantCredits(walletDeps(t), {
    id: `grant-${user.id}`,
    accountId: user.id,
    asset: 'USD',
    amountMinor: 2_500_000n,
  });
  const row = page.locator('#wallet .rows > li').first();
  await row.waitFor({ timeout: 5000 });
  expect(await row.locator('.amount').textContent()).toBe('+2.500000 USD');
});

browserTest('an admin signed in with an API key sees platform-wide figures; others get neither', async () => {
  const figures = parse(ADMIN_FIGURES) as TypedDocumentNode<unknown, Record<string, never>>;
  expect(errorOf(await user.request(figures, {})).code).toBe('FORBIDDEN');
  const backlog = parse('{ taskStats { webhookQueueDepth } }') as TypedDocumentNode<
    { taskStats: { webhookQueueDepth: number | null } },
    Record<string, never>
  >;
  expect((await user.data(backlog, {})).taskStats.webhookQueueDepth).toBeNull();

  const admin = await registerAdmin(t);
  const { createApiKey } = await admin.data(CreateApiKeyDocument, {
    input: { name: 'dashboard', scopes: ['*'] },
  });
  const adminPage = await browser.page();
  await adminPage.goto(`${t.url}/dashboard/`);
  await adminPage.fill('[name=apiKey]', createApiKey.key);
  await adminPage.click('#sign-in-form button');
  await adminPage.waitForSelector('#connection[data-state=live]');
  expect(await adminPage.textContent('#who')).toBe('Admin (admin)');
  await adminPage.waitForSelector('#platform dd');

  // Three transfers, then a reload (the tab keeps its sign-in), whose first figures count them
  // within their ten-second window.
  for (let i = 0; i < 3; i++)
    await grantCredits(walletDeps(t), {
      id: `grant-admin-${i}`,
      accountId: user.id,
      asset: 'USD',
      amountMinor: 1n,
    });
  await adminPage.reload();
  await adminPage.waitForSelector('#platform dd');
  const figure = (label: string) =>
    adminPage.$$eval(
      '#platform dt',
      (dts, wanted) => dts.find((dt) => dt.textContent === wanted)?.nextElementSibling?.textContent,
      label,
    );
  expect(Number(await figure('transfers/s'))).toBeGreaterThanOrEqual(0.3);
  expect(await figure('webhook queue')).toBe('0');
  expect(await figure('answers streaming')).toBe('0');
  await screenshot(adminPage, 'dashboard-admin');
  expect(await page.isHidden('#platform')).toBe(true);
});

browserTest('keeps at most 200 rows in a panel however many events arrive', async () => {
  const before = await createTask('before the burst');
  await page.waitForSelector(`#tasks li[data-task="${before.id}"]`, { timeout: 5000 });
  // 210 events in batches of 30 at once; each batch is committed before the next starts.
  let last: string[] = [];
  for (let batch = 0; batch < 210; batch += 30)
    last = await Promise.all(
      Array.from({ length: 30 }, (_, i) => createTask(`burst ${batch + i}`).then((task) => task.id)),
    );
  for (const id of last) await page.waitForSelector(`#tasks li[data-task="${id}"]`, { timeout: 10_000 });
  expect(await rowsOf('tasks').count()).toBe(200);
  expect(await page.$(`#tasks li[data-task="${before.id}"]`)).toBeNull();
});

browserTest('renews a signed-in session before its access token expires, and stays live', async () => {
  const renewing = await browser.page();
  await renewing.clock.install();
  await renewing.goto(`${t.url}/dashboard/`);
  await renewing.fill('[name=email]', user.email);
  await renewing.fill('[name=password]', user.password);
  await renewing.click('#sign-in-form button');
  await renewing.waitForSelector('#connection[data-state=live]');
  // The refresh token rotates on every renewal; an access token issued in the same second as the
  // first one may read the same, so the renewal is told by the refresh token.
  const stored = () =>
    renewing.evaluate(
      () => JSON.parse(sessionStorage.getItem('agentry.dashboard.credential')!).refreshToken as string,
    );
  const first = await stored();

  // Twelve of the token's fifteen minutes later, it is renewed and the connection made again with it.
  await renewing.clock.fastForward('12:30');
  await renewing.waitForFunction((old) => {
    const saved = JSON.parse(sessionStorage.getItem('agentry.dashboard.credential')!);
    return saved.refreshToken !== old;
  }, first);
  await renewing.waitForSelector('#connection[data-state=live]');
  const task = await createTask('after the renewal');
  await renewing.waitForSelector(`#tasks li[data-task="${task.id}"]`, { timeout: 10_000 });
  expect(await stored()).not.toBe(first);
  await renewing.close();
});
