/**
 * The pages a person opens in a browser, in Debian's Chromium with every host but the platform
 * blocked: GraphiQL runs a query and a subscription, /docs renders each dialect and tries a request.
 */
import { DIALECTS } from '../router/rest/dialects';
import { browserAvailable, launchBrowser, screenshot, type Page, type TestBrowser } from './support/browser';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

const browserTest = browserAvailable ? test : test.skip;

let t: TestPlatform;
let browser: TestBrowser;
let ada: User;

beforeAll(async () => {
  t = await startTestPlatform();
  ada = await t.register('Ada');
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});
afterEach(() => expect(browser.blocked).toEqual([]));

/** GraphiQL signed in as Ada, its editor holding `query`. */
async function graphiql(query: string): Promise<Page> {
  const page = await browser.page();
  await page.setExtraHTTPHeaders({ authorization: `Bearer ${ada.credential}` });
  const response = await page.goto(`${t.graphqlUrl}?query=${encodeURIComponent(query)}`);
  expect(response?.status()).toBe(200);
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
  return page;
}

const resultText = (page: Page) => page.locator('.result-window').innerText();

// One GraphiQL page for both (loading its editor is most of the time): a query, then a subscription
// typed over it.
browserTest(
  'GraphiQL loads without internet, runs a query, then a subscription showing events as they come',
  async () => {
    const page = await graphiql('{ me { displayName email } }');
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: ada.email }).waitFor();
    // Monaco renders the answer with its own spacing; the values are what matter.
    const shown = (await resultText(page)).replace(/\s+/g, '');
    expect(shown).toContain(`"me":{"displayName":"Ada","email":"${ada.email}"}`);
    await screenshot(page, 'graphiql-query');

    await page.locator('.graphiql-query-editor .monaco-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('subscription { memoryEvents { kind entry { content } } }');
    await page.locator('.graphiql-execute-button').click();
    // The execute button turns into a stop button while the subscription is open.
    await page.locator('.graphiql-execute-button[aria-label*="Stop"]').waitFor();
    const storeMemory = `mutation($input: StoreMemoryInput!) { storeMemory(input: $input) { id } }`;
    for (const content of ['first fact from the browser test', 'second fact from the browser test']) {
      const response = await fetch(t.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.credential}` },
        body: JSON.stringify({ query: storeMemory, variables: { input: { content } } }),
      });
      expect((await response.json()).errors).toBeUndefined();
      await page.locator('.result-window', { hasText: content }).waitFor();
    }
    expect(await resultText(page)).toContain('STORED');
    await screenshot(page, 'graphiql-subscription');
    await page.close();
  },
);

browserTest('/docs renders every dialect from the platform itself', async () => {
  const page = await browser.page();
  for (const dialect of DIALECTS) {
    await page.goto(`${t.url}/docs?urls.primaryName=${dialect.name}`);
    await page.locator('.info .title', { hasText: dialect.title }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(0);
    await screenshot(page, `docs-${dialect.name}`);
  }
  await page.close();
});

browserTest('/docs sends a try-it request to the running platform', async () => {
  const page = await browser.page();
  await page.goto(`${t.url}/docs?urls.primaryName=hermes`);
  const operation = page.locator('.opblock', { hasText: '/api/gateway-status' }).first();
  await operation.locator('.opblock-summary').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  const answered = page.waitForResponse((r) => r.url() === `${t.url}/api/gateway-status`);
  await operation.getByRole('button', { name: 'Execute' }).click();
  expect((await answered).status()).toBe(200);
  await operation.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor();
  await screenshot(page, 'docs-try-it');
  await page.close();
});
