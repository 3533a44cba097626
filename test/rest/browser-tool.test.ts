/**
 * 002's browser tool through the runtime dialect, in Debian's Chromium: a session navigates to
 * pages this test serves, clicks, types, reads the text and takes a screenshot; private addresses
 * are refused (directly, by redirect and as a page's subrequest) unless allowlisted; another
 * account neither sees nor drives the session; stop ends it; idle sessions are closed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeIdleSessions } from '../../subgraphs/sessions/browser/browser.sessions';
import { browserAvailable } from '../support/browser';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { rest, type Rest } from './support';

const describeBrowser = browserAvailable ? describe : describe.skip;

let t: TestPlatform;
let ada: Rest;
let bob: Rest;
let pages: Server;
let origin: string;
/** Paths of the page server requested on 127.0.0.2, the address no test allowlists. */
const privateHits: string[] = [];
/** WebSocket paths opened on the allowlisted 127.0.0.1. */
const socketHits: string[] = [];

const HTML: Record<string, string> = {
  '/': '<title>Home</title><h1>Welcome home</h1><a id="next" href="/form">Go to the form</a>',
  '/form':
    '<title>Form</title><input id="name"><button id="greet" onclick="' +
    "document.getElementById('out').textContent = 'Hello, ' + document.getElementById('name').value" +
    '">Greet</button><p id="out"></p>',
  '/with-private-subrequests': '', // filled in once the port is known
};

function servePages(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (req.headers.host?.startsWith('127.0.0.2')) privateHits.push(path);
    if (path === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.2:${port()}/secret` });
      return res.end();
    }
    if (path === '/secret' || path === '/ping') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('internal secret');
    }
    const html = HTML[path];
    if (html === undefined) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'visited=yes; Path=/' });
    res.end(`<!doctype html><html><body>${html}</body></html>`);
  });
  // WebSockets: recorded by the address asked for, then dropped.
  server.on('upgrade', (req, socket: import('node:net').Socket) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (req.headers.host?.startsWith('127.0.0.2')) privateHits.push(path);
    else socketHits.push(path);
    socket.destroy();
  });
  // On every interface, so 127.0.0.2 would answer if the browser were let through to it.
  return new Promise((resolve) => server.listen(0, '0.0.0.0', () => resolve(server)));
}
const port = () => (pages.address() as AddressInfo).port;

const allowHosts = (value: string) => {
  process.env.BROWSER_ALLOW_HOSTS = value;
};

beforeAll(async () => {
  pages = await servePages();
  origin = `http://127.0.0.1:${port()}`;
  HTML['/with-private-subrequests'] =
    `<title>Sub</title><p>text</p><img src="http://127.0.0.2:${port()}/secret.png">` +
    `<script>fetch('http://127.0.0.2:${port()}/secret-fetch').catch(() => {})</script>`;
  HTML['/with-sockets'] =
    '<title>Sockets</title><script>window.socketsDone = Promise.all([' +
    `'ws://127.0.0.2:${port()}/private-socket', 'ws://127.0.0.1:${port()}/public-socket'` +
    '].map((url) => new Promise((done) => { const s = new WebSocket(url); s.onerror = s.onclose = done; })))</script>';
  // The unlisted address does answer when asked directly: only the guard keeps the browser off it.
  expect(await (await fetch(`http://127.0.0.2:${port()}/ping`)).text()).toBe('internal secret');
  privateHits.length = 0;
  allowHosts('127.0.0.1');
  t = await startTestPlatform();
  ada = rest(t, (await t.register('Ada')).credential);
  bob = rest(t, (await t.register('Bob')).credential);
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => pages?.close(resolve));
  delete process.env.BROWSER_ALLOW_HOSTS;
});

const action = (api: Rest, body: Record<string, unknown>) =>
  api('POST', '/runtime/api/browser/action', { body });

/** Width and height from a PNG's IHDR chunk, after its 8-byte signature. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describeBrowser('browser tool', () => {
  test('without a browser installed, start is a 503 that says what to install', async () => {
    process.env.BROWSER_EXECUTABLE = '/nonexistent/chromium';
    try {
      const status = await ada('GET', '/runtime/api/browser/status');
      expect(status).toMatchObject({ status: 200, body: { running: false, enabled: false, headless: true } });
      const start = await ada('POST', '/runtime/api/browser/start');
      expect(start.status).toBe(503);
      expect(start.body).toEqual({ error: expect.stringContaining('no browser at BROWSER_EXECUTABLE') });
    } finally {
      delete process.env.BROWSER_EXECUTABLE;
    }
  });

  test('anonymous callers are refused', async () => {
    const anonymous = rest(t);
    expect((await anonymous('GET', '/runtime/api/browser/status')).status).toBe(401);
    expect((await action(anonymous, { action: 'ReadPage' })).status).toBe(401);
  });

  test('a session navigates, clicks a link, types, clicks a button, reads the text and takes a screenshot', async () => {
    expect((await ada('GET', '/runtime/api/browser/status')).body).toMatchObject({
      running: false,
      enabled: true,
    });
    expect(await ada('POST', '/runtime/api/browser/start')).toMatchObject({
      status: 200,
      body: { status: 'started', cdp_port: null },
    });
    expect((await ada('POST', '/runtime/api/browser/start')).body).toEqual({ status: 'already_running' });

    const navigate = await action(ada, { action: 'Navigate', url: `${origin}/` });
    expect(navigate).toMatchObject({
      status: 200,
      body: {
        action: 'navigate',
        success: true,
        error: null,
        data: { url: `${origin}/`, title: 'Home', status: 200 },
      },
    });
    const home = await action(ada, { action: 'ReadPage' });
    expect(home.body).toMatchObject({ action: 'read_page', success: true, data: { title: 'Home' } });
    expect(home.body.data.text).toContain('Welcome home');

    const click = await action(ada, { action: 'Click', selector: '#next' });
    expect(click).toMatchObject({
      status: 200,
      body: { success: true, data: { selector: '#next', title: 'Form' } },
    });
    const typed = await action(ada, { action: 'type', selector: '#name', text: 'Ada Lovelace' });
    expect(typed).toMatchObject({
      status: 200,
      body: { success: true, data: { text: 'Ada Lovelace', length: 12 } },
    });
    expect((await action(ada, { action: 'click', selector: '#greet' })).body.success).toBe(true);
    const read = await action(ada, { action: 'read_page' });
    expect(read.body.data).toMatchObject({ url: `${origin}/form`, title: 'Form', truncated: false });
    expect(read.body.data.text).toContain('Hello, Ada Lovelace');

    const shot = await action(ada, { action: 'Screenshot' });
    expect(shot).toMatchObject({
      status: 200,
      body: { action: 'screenshot', success: true, data: { format: 'png' } },
    });
    const png = Buffer.from(shot.body.data.data, 'base64');
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual({ width: 1280, height: 800 });
    expect(shot.body.data.bytes).toBe(png.length);

    const evaluated = await action(ada, {
      action: 'Evaluate',
      expression: 'document.querySelectorAll("input").length',
    });
    expect(evaluated.body).toMatchObject({ success: true, data: { type: 'number', value: 1 } });
    const cookies = await action(ada, { action: 'GetCookies' });
    expect(cookies.body.data).toMatchObject({ count: 1, cookies: [{ name: 'visited', value: 'yes' }] });

    const status = await ada('GET', '/runtime/api/browser/status');
    expect(status.body).toMatchObject({
      running: true,
      enabled: true,
      url: `${origin}/form`,
      cdp_port: null,
    });
  });

  test('an action that cannot run is 400 in Ironclad ActionResult form, bad input 400 {"error"}', async () => {
    const missing = await action(ada, { action: 'Click', selector: '#nowhere-to-be-found' });
    expect(missing).toMatchObject({ status: 400, body: { action: 'click', success: false, data: null } });
    expect(missing.body.error).toMatch(/click failed/);
    expect(await action(ada, { action: 'Navigate' })).toMatchObject({
      status: 400,
      body: { action: 'navigate', success: false, error: 'url is required' },
    });
    const unknown = await action(ada, { action: 'Explode' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: expect.stringContaining('must be one of') });
    expect((await action(ada, {})).body).toEqual({ error: expect.stringContaining('action is required') });
  }, 60_000);

  test('a script that never returns fails its action at the deadline; the session goes on with a fresh page', async () => {
    await ada('POST', '/runtime/api/browser/start');
    await action(ada, { action: 'Navigate', url: `${origin}/` });
    process.env.BROWSER_PAGE_TIMEOUT_MS = '1000'; // the deadline of an action: twice that and a second
    try {
      const hung = await action(ada, { action: 'Evaluate', expression: 'while (true) {}' });
      expect(hung).toMatchObject({ status: 400, body: { action: 'evaluate', success: false } });
      expect(hung.body.error).toMatch(/no result within 3000 ms/);
      const next = await action(ada, { action: 'Evaluate', expression: '6 * 7' });
      expect(next.body).toMatchObject({ success: true, data: { value: 42 } });
      expect((await ada('GET', '/runtime/api/browser/status')).body).toMatchObject({
        running: true,
        url: 'about:blank',
      });
    } finally {
      delete process.env.BROWSER_PAGE_TIMEOUT_MS;
    }
  });

  describe('private addresses', () => {
    beforeAll(() => ada('POST', '/runtime/api/browser/start'));
    beforeEach(() => (privateHits.length = 0));
    afterEach(() => allowHosts('127.0.0.1'));

    test.each([
      ['loopback (not allowlisted now)', () => `${origin}/secret`, () => allowHosts('')],
      ['another loopback address', () => `http://127.0.0.2:${port()}/secret`, () => undefined],
      ['IPv6 loopback', () => `http://[::1]:${port()}/secret`, () => undefined],
      ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', () => undefined],
      ['a file', () => 'file:///etc/passwd', () => undefined],
    ])('%s is refused before the browser connects', async (_name, url, setUp) => {
      setUp();
      const refused = await action(ada, { action: 'Navigate', url: url() });
      expect(refused).toMatchObject({ status: 400, body: { action: 'navigate', success: false } });
      expect(refused.body.error).toMatch(/^refused: /);
      expect(privateHits).toEqual([]);
    });

    test('a redirect from an allowed page to a private address is refused', async () => {
      const redirected = await action(ada, { action: 'Navigate', url: `${origin}/redirect` });
      expect(redirected).toMatchObject({ status: 400, body: { success: false } });
      expect(redirected.body.error).toMatch(/127\.0\.0\.2.*private/);
      expect(privateHits).toEqual([]);
    });

    test("a page's image and fetch to a private address never reach it", async () => {
      const page = await action(ada, { action: 'Navigate', url: `${origin}/with-private-subrequests` });
      expect(page.body).toMatchObject({ success: true, data: { title: 'Sub' } });
      // The page loaded (its image settled) and its script ran: nothing reached the private address.
      await action(ada, {
        action: 'Evaluate',
        expression: 'new Promise((resolve) => setTimeout(resolve, 200))',
      });
      expect(privateHits).toEqual([]);
    });
  });

  test('a WebSocket reaches an allowlisted address but not a private one', async () => {
    privateHits.length = 0;
    await ada('POST', '/runtime/api/browser/start');
    expect((await action(ada, { action: 'Navigate', url: `${origin}/with-sockets` })).body.success).toBe(
      true,
    );
    const settled = await action(ada, {
      action: 'Evaluate',
      expression: 'window.socketsDone.then(() => true)',
    });
    expect(settled.body).toMatchObject({ success: true, data: { value: true } });
    expect(socketHits).toEqual(['/public-socket']);
    expect(privateHits).toEqual([]);
  });

  test('limits: text cut, screenshot size, sessions per process', async () => {
    await ada('POST', '/runtime/api/browser/start');
    await action(ada, { action: 'Navigate', url: `${origin}/` });
    Object.assign(process.env, {
      BROWSER_MAX_TEXT_CHARS: '100',
      BROWSER_MAX_SCREENSHOT_BYTES: '10000',
      BROWSER_MAX_SESSIONS: '1',
    });
    try {
      await action(ada, {
        action: 'Evaluate',
        expression: "document.body.append('x'.repeat(500)); document.body.innerText.length",
      });
      const read = await action(ada, { action: 'ReadPage' });
      expect(read.body.data).toMatchObject({ truncated: true });
      expect(read.body.data.text).toHaveLength(100);
      expect(read.body.data.text_length).toBeGreaterThan(500);
      const shot = await action(ada, { action: 'Screenshot' });
      expect(shot).toMatchObject({ status: 400, body: { action: 'screenshot', success: false, data: null } });
      expect(shot.body.error).toMatch(/more than 10000/);
      const carol = rest(t, (await t.register('Carol')).credential);
      const start = await carol('POST', '/runtime/api/browser/start');
      expect(start).toMatchObject({
        status: 503,
        body: { error: expect.stringContaining('all 1 browser sessions') },
      });
      expect((await carol('GET', '/runtime/api/browser/status')).body.running).toBe(false);
    } finally {
      for (const name of ['BROWSER_MAX_TEXT_CHARS', 'BROWSER_MAX_SCREENSHOT_BYTES', 'BROWSER_MAX_SESSIONS'])
        delete process.env[name];
    }
  });

  test('another account neither sees nor drives the session, and has a context of its own', async () => {
    const adaAt = await action(ada, { action: 'Navigate', url: `${origin}/form` });
    expect(adaAt.body).toMatchObject({ success: true, data: { url: `${origin}/form` } });
    expect((await bob('GET', '/runtime/api/browser/status')).body).toMatchObject({
      running: false,
      url: null,
    });
    expect(await action(bob, { action: 'ReadPage' })).toMatchObject({
      status: 400,
      body: { success: false, error: 'browser not started' },
    });
    expect((await bob('POST', '/runtime/api/browser/stop')).body).toEqual({ status: 'stopped' });
    expect((await ada('GET', '/runtime/api/browser/status')).body.running).toBe(true);

    expect((await bob('POST', '/runtime/api/browser/start')).body.status).toBe('started');
    // Ada's cookie is hers: Bob's context starts without it.
    expect((await action(bob, { action: 'GetCookies' })).body.data).toEqual({ cookies: [], count: 0 });
    await action(bob, { action: 'Navigate', url: `${origin}/` });
    expect((await ada('GET', '/runtime/api/browser/status')).body.url).toBe(`${origin}/form`);
    expect((await bob('GET', '/runtime/api/browser/status')).body.url).toBe(`${origin}/`);
  });

  test('stop ends the session: status says stopped and actions are refused', async () => {
    expect(await ada('POST', '/runtime/api/browser/stop')).toMatchObject({
      status: 200,
      body: { status: 'stopped' },
    });
    expect((await ada('GET', '/runtime/api/browser/status')).body).toMatchObject({
      running: false,
      url: null,
    });
    expect((await action(ada, { action: 'Screenshot' })).body).toMatchObject({
      success: false,
      error: 'browser not started',
    });
  });

  test('a session unused for longer than BROWSER_IDLE_SECONDS is closed', async () => {
    expect((await bob('GET', '/runtime/api/browser/status')).body.running).toBe(true);
    expect(await closeIdleSessions(Date.now() + 60_000)).toBe(0); // within the default 300 s
    expect(await closeIdleSessions(Date.now() + 301_000)).toBe(1);
    expect((await bob('GET', '/runtime/api/browser/status')).body.running).toBe(false);
  });

  test('as a built-in plugin, the browser opens and reads pages for its caller and refuses private ones', async () => {
    const dora = rest(t, (await t.register('Dora')).credential);
    const run = (tool: string, body: Record<string, unknown> = {}) =>
      dora('POST', `/runtime/api/plugins/browser/execute/${tool}`, { body });
    const listed = (await dora('GET', '/runtime/api/plugins')).body.plugins.find(
      (plugin: { name: string }) => plugin.name === 'browser',
    );
    expect(listed).toMatchObject({ kind: 'builtin', status: 'Active', enabled: true });
    expect(listed.tools.map((tool: { name: string }) => tool.name)).toEqual([
      'navigate',
      'read_page',
      'click',
      'type',
      'go_back',
    ]);

    // The first call starts the caller's own session.
    const opened = await run('navigate', { url: `${origin}/` });
    expect(opened).toMatchObject({ status: 200, body: { result: { success: true } } });
    expect(JSON.parse(opened.body.result.output)).toMatchObject({ url: `${origin}/`, title: 'Home' });
    expect((await dora('GET', '/runtime/api/browser/status')).body).toMatchObject({
      running: true,
      url: `${origin}/`,
    });
    expect((await run('click', { selector: '#next' })).body.result.success).toBe(true);
    const read = await run('read_page');
    expect(read.body.result).toMatchObject({ success: true });
    expect(read.body.result.output).toContain('Form');

    const refused = await run('navigate', { url: `http://127.0.0.2:${port()}/secret` });
    expect(refused.body.result).toMatchObject({ success: false });
    expect(privateHits).not.toContain('/secret');
    // Arguments are checked against the tool's schema before the browser is touched.
    expect((await run('navigate', {})).status).toBe(400);
    expect((await run('screenshot')).status).toBe(404);
    await dora('POST', '/runtime/api/browser/stop');
  });
});
