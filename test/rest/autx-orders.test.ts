/**
 * AUTX (003) paid orders and the agent proxy, through the real platform and a real wallet. The
 * agent is a local HTTP server on 127.0.0.1, reachable only because AGENT_ENDPOINT_ALLOWLIST names
 * it: the public-address guard itself is left as it is.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPeers, holdPayment, type EntityManager } from '../../lib';
import { reconcileOrders } from '../../subgraphs/agents';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { sql } from '../tasks.support';
import { fundedUser, ledgerViolations, usdCredits, withDatabase } from '../wallet.support';
import { ISO, rest } from './support';

const PRICE = 500_000n; // $0.50 in micro-dollars
const FEE = (PRICE * 250n) / 10_000n; // PLATFORM_FEE_BPS default 250
const TIMEOUT_MS = 800;

/** The test agent: echoes, summarises, fails or stalls, by path. */
async function startAgent(): Promise<{ server: Server; base: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push(req);
      const body = Buffer.concat(chunks);
      if (req.url === '/echo') {
        res.writeHead(207, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
        res.end(body);
      } else if (req.url === '/summarize') {
        const { prompt } = JSON.parse(body.toString('utf8')) as { prompt: string };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ output: `summary: ${prompt}` }));
      } else if (req.url === '/files') {
        const { prompt, files = [] } = JSON.parse(body.toString('utf8')) as {
          prompt: string;
          files?: { name: string; content_type: string; data_base64: string }[];
        };
        const described = files.map(
          (f) => `${f.name} (${f.content_type}): ${Buffer.from(f.data_base64, 'base64').toString('utf8')}`,
        );
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ output: [prompt, ...described].join('; ') }));
      } else if (req.url === '/nul-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"output":"a\\u0000b\\ud800c"}');
      } else if (req.url === '/nul-text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('a\u0000b');
      } else if (req.url === '/plain') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain answer');
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Buffer.alloc(64 * 1024, 'x'));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), TIMEOUT_MS * 3).unref();
      } else {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"agent broke"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let t: TestPlatform;
let agentServer: Awaited<ReturnType<typeof startAgent>>;
let owner: User;
const env = {
  AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1',
  AGENT_CALL_TIMEOUT_MS: String(TIMEOUT_MS),
  AGENT_RESPONSE_MAX_BYTES: String(32 * 1024),
};

beforeAll(async () => {
  agentServer = await startAgent();
  t = await startTestPlatform(env);
  // Subgraphs read these settings on each call.
  Object.assign(process.env, env);
  owner = await t.register('Agent owner');
});
afterAll(async () => {
  for (const name of Object.keys(env)) delete process.env[name];
  await t.close();
  await new Promise((resolve) => agentServer.server.close(resolve));
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

let tickers = 0;
/** Lists an agent of `owner` at `endpoint` and answers its id and ticker. */
async function listAgent(endpoint: string, price = '0.50') {
  const ticker = `ORD${++tickers}`;
  const { status, body } = await rest(t, owner.credential)('POST', '/autx/v1/agents/', {
    body: { name: `Agent ${ticker}`, ticker, endpoint_url: endpoint, service_price: price },
  });
  expect(status).toBe(201);
  return { id: body.id as string, ticker };
}

const credits = (id: string) => usdCredits(t, id);
const revenue = async () => (await credits('system:PLATFORM_REVENUE')).posted;
const figures = async (id: string) => {
  const { body } = await rest(t, owner.credential)('GET', `/autx/v1/agents/${id}`);
  return { total_requests: body.total_requests, total_revenue: body.total_revenue };
};

describe('POST /proxy/{ticker_or_id}', () => {
  test('relays the body and content type both ways, with the x-autx headers, and bills nothing', async () => {
    const { id, ticker } = await listAgent(`${agentServer.base}/echo`);
    const caller = await fundedUser(t, 1_000_000n, 'Proxy caller');
    const api = rest(t, caller.credential);
    const payload = 'a,b\n1,2\n\u00e9';
    for (const key of [ticker, ticker.toLowerCase(), id]) {
      const { status, headers, text } = await api('POST', `/autx/v1/proxy/${key}`, {
        raw: payload,
        headers: { 'content-type': 'text/csv; charset=utf-8' },
      });
      expect(status).toBe(207); // the agent's own status
      expect(text).toBe(payload);
      expect(headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(headers.get('x-autx-request-id')).toMatch(/^req_/);
      expect(Number(headers.get('x-autx-latency-ms'))).toBeGreaterThanOrEqual(0);
      expect(headers.get('x-autx-agent')).toBe(ticker);
    }
    const forwarded = agentServer.seen.at(-1)!;
    expect(forwarded.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(forwarded.headers['x-autx-request-id']).toMatch(/^req_/);
    // A JSON body too, byte for byte.
    const json = await api('POST', `/autx/v1/proxy/${ticker}`, {
      raw: '{"prompt": "hi"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(json.text).toBe('{"prompt": "hi"}');
    // Free: no order, no charge, no counter.
    expect(await credits(caller.id)).toEqual({ posted: 1_000_000n, held: 0n });
    expect((await api('GET', '/autx/v1/orders/')).body).toEqual([]);
    expect(await figures(id)).toEqual({ total_requests: 0, total_revenue: '0.00' });
  });

  test('an agent down is 502, a slow one 504, a too-large answer 502, an unknown agent 404', async () => {
    const api = rest(t, owner.credential);
    const down = await listAgent(`http://127.0.0.1:${await closedPort()}/x`);
    const slow = await listAgent(`${agentServer.base}/slow`);
    const huge = await listAgent(`${agentServer.base}/huge`);
    const send = (ticker: string) => api('POST', `/autx/v1/proxy/${ticker}`, { body: { prompt: 'x' } });
    const refused = await send(down.ticker);
    expect(refused.status).toBe(502);
    expect(refused.body).toEqual({ detail: expect.stringContaining(down.ticker) });
    const late = await send(slow.ticker);
    expect(late.status).toBe(504);
    expect(late.body).toEqual({ detail: expect.stringMatching(/did not answer/) });
    expect((await send(huge.ticker)).status).toBe(502);
    const missing = await send('NOPE');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: expect.any(String) });
  });

  test('a private address is refused without the allowlist (and the agent never called)', async () => {
    const { ticker } = await listAgent(`${agentServer.base}/echo`);
    const before = agentServer.seen.length;
    process.env.AGENT_ENDPOINT_ALLOWLIST = '';
    try {
      const { status, body } = await rest(t, owner.credential)('POST', `/autx/v1/proxy/${ticker}`, {
        body: { prompt: 'x' },
      });
      expect(status).toBe(502);
      expect(body.detail).toMatch(/private, loopback or reserved/);
    } finally {
      process.env.AGENT_ENDPOINT_ALLOWLIST = env.AGENT_ENDPOINT_ALLOWLIST;
    }
    expect(agentServer.seen.length).toBe(before);
  });

  test('needs a credential with the proxy scope', async () => {
    const { ticker } = await listAgent(`${agentServer.base}/echo`);
    expect((await rest(t)('POST', `/autx/v1/proxy/${ticker}`, { body: {} })).status).toBe(401);
  });
});

describe('orders', () => {
  test('an order with enough credits: the agent is paid less the fee, the output kept and hashed', async () => {
    const agent = await listAgent(`${agentServer.base}/summarize`);
    const buyer = await fundedUser(t, 2_000_000n, 'Buyer');
    const api = rest(t, buyer.credential);
    const ownerBefore = await credits(owner.id);
    const revenueBefore = await revenue();

    const { status, body } = await api('POST', '/autx/v1/orders/', {
      body: { agent_id: agent.id, prompt: 'Analyze this data', payment_method: 'stripe' },
    });
    expect(status).toBe(201);
    const answer = JSON.stringify({ output: 'summary: Analyze this data' });
    expect(body).toEqual({
      id: expect.stringMatching(/^ord_/),
      agent_id: agent.id,
      status: 'completed',
      prompt: 'Analyze this data',
      payment_method: 'stripe',
      service_price: '0.50',
      // 003's amount_paid and platform_fee: what the wallet's transfers moved (checked below).
      amount_paid: '0.50',
      platform_fee: '0.0125',
      output_hash: `sha256:${createHash('sha256').update(answer).digest('hex')}`,
      output_text: 'summary: Analyze this data',
      error: null,
      latency_ms: expect.any(Number),
      created_at: ISO,
      completed_at: ISO,
    });
    expect(await credits(buyer.id)).toEqual({ posted: 2_000_000n - PRICE, held: 0n });
    expect((await credits(owner.id)).posted - ownerBefore.posted).toBe(PRICE - FEE);
    expect((await revenue()) - revenueBefore).toBe(FEE);
    expect(await figures(agent.id)).toEqual({ total_requests: 1, total_revenue: '0.50' });

    // GET /orders/{id} and GET /orders/ answer the same order; another account sees neither.
    const one = await api('GET', `/autx/v1/orders/${body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(body);
    const list = await api('GET', '/autx/v1/orders/');
    expect(list.body).toEqual([body]);
    const stranger = rest(t, (await t.register('Stranger')).credential);
    expect((await stranger('GET', `/autx/v1/orders/${body.id}`)).status).toBe(404);
    expect((await stranger('GET', '/autx/v1/orders/')).body).toEqual([]);

    const ledgerIds = await sql<{ id: string }>(
      t,
      `select "id" from "wallet"."transfer" where "id" like $1 order by "id"`,
      [`${body.id}.%`],
    );
    expect(ledgerIds.map((row) => row.id.slice(body.id.length))).toEqual([
      '.fee',
      '.hold',
      '.payout',
      '.release',
    ]);
    const [fee] = await sql<{ amount: string }>(
      t,
      `select "amount"::text from "wallet"."transfer" where "id" = $1`,
      [`${body.id}.fee`],
    );
    expect(BigInt(fee!.amount)).toBe(FEE);
  });

  test('402 Insufficient credits when short: nothing held, no order stored', async () => {
    const agent = await listAgent(`${agentServer.base}/summarize`);
    const buyer = await fundedUser(t, PRICE - 1n, 'Short buyer');
    const api = rest(t, buyer.credential);
    const calls = agentServer.seen.length;
    const { status, body, headers } = await api('POST', '/autx/v1/orders/', {
      body: { agent_id: agent.id, prompt: 'x', payment_method: 'credits' },
    });
    expect(status).toBe(402);
    expect(body).toEqual({ detail: 'Insufficient credits' });
    // Every 402 of the REST facade is kept out of caches.
    expect(headers.get('cache-control')).toBe('no-store');
    expect(await credits(buyer.id)).toEqual({ posted: PRICE - 1n, held: 0n });
    expect((await api('GET', '/autx/v1/orders/')).body).toEqual([]);
    expect(agentServer.seen.length).toBe(calls);
    expect(await figures(agent.id)).toEqual({ total_requests: 0, total_revenue: '0.00' });
  });

  test('an agent that fails, is down or too slow: the order fails and the hold is voided', async () => {
    const buyer = await fundedUser(t, 2_000_000n, 'Unlucky buyer');
    const api = rest(t, buyer.credential);
    const ownerBefore = await credits(owner.id);
    const endpoints = [
      `${agentServer.base}/broken`,
      `http://127.0.0.1:${await closedPort()}/x`,
      `${agentServer.base}/slow`,
    ];
    for (const endpoint of endpoints) {
      const agent = await listAgent(endpoint);
      const { status, body } = await api('POST', '/autx/v1/orders/', {
        body: { agent_id: agent.ticker, prompt: 'x' },
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({
        status: 'failed',
        output_text: null,
        output_hash: null,
        payment_method: 'credits',
        amount_paid: '0.00',
        platform_fee: '0.00',
      });
      expect(body.error).toEqual(expect.any(String));
      expect(await figures(agent.id)).toEqual({ total_requests: 0, total_revenue: '0.00' });
    }
    expect(await credits(buyer.id)).toEqual({ posted: 2_000_000n, held: 0n });
    expect(await credits(owner.id)).toEqual(ownerBefore);
  });

  test('a text answer is kept as text; the input is checked (422)', async () => {
    const agent = await listAgent(`${agentServer.base}/plain`);
    const api = rest(t, (await fundedUser(t, 1_000_000n, 'Text buyer')).credential);
    const { body } = await api('POST', '/autx/v1/orders/', { body: { agent_id: agent.id, prompt: 'p' } });
    expect(body).toMatchObject({
      status: 'completed',
      output_text: 'plain answer',
      output_hash: `sha256:${createHash('sha256').update('plain answer').digest('hex')}`,
    });
    expect((await api('POST', '/autx/v1/orders/', { body: { agent_id: agent.id } })).status).toBe(422);
    expect(
      (await api('POST', '/autx/v1/orders/', { body: { agent_id: agent.id, prompt: ' ' } })).status,
    ).toBe(422);
    expect(
      (await api('POST', '/autx/v1/orders/', { body: { agent_id: 'agt_nope', prompt: 'p' } })).status,
    ).toBe(404);
  });

  test('a hostile agent answering NUL or a lone surrogate: the order completes with the text made safe', async () => {
    const buyer = await fundedUser(t, 2_000_000n, 'Hostile-agent buyer');
    const api = rest(t, buyer.credential);
    for (const [path, text] of [
      ['/nul-json', 'a\ufffdb\ufffdc'],
      ['/nul-text', 'a\ufffdb'],
    ] as const) {
      const agent = await listAgent(`${agentServer.base}${path}`);
      const { status, body } = await api('POST', '/autx/v1/orders/', {
        body: { agent_id: agent.id, prompt: 'p' },
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({ status: 'completed', output_text: text, error: null });
      expect(await figures(agent.id)).toEqual({ total_requests: 1, total_revenue: '0.50' });
      expect((await api('GET', `/autx/v1/orders/${body.id}`)).body).toEqual(body);
    }
    expect(await credits(buyer.id)).toEqual({ posted: 2_000_000n - 2n * PRICE, held: 0n });
  });

  test('POST /orders/multipart: fields and files reach the agent, settled like any order; 413 when too large', async () => {
    const agent = await listAgent(`${agentServer.base}/files`);
    const buyer = await fundedUser(t, 2_000_000n, 'Multipart buyer');
    const send = (form: FormData) =>
      fetch(`${t.url}/autx/v1/orders/multipart`, {
        method: 'POST',
        headers: { authorization: `Bearer ${buyer.credential}` },
        body: form,
      });
    const form = new FormData();
    form.set('agent_id', agent.id);
    form.set('prompt', 'Read these');
    form.set('payment_method', 'usdc');
    form.append('files', new Blob(['alpha'], { type: 'text/plain' }), 'a.txt');
    form.append('files', new Blob(['{"b":1}'], { type: 'application/json' }), 'b.json');
    const response = await send(form);
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'completed',
      payment_method: 'usdc',
      output_text: 'Read these; a.txt (text/plain): alpha; b.json (application/json): {"b":1}',
    });
    expect(await credits(buyer.id)).toEqual({ posted: 2_000_000n - PRICE, held: 0n });

    const large = new FormData();
    large.set('agent_id', agent.id);
    large.set('prompt', 'Too much');
    large.append('files', new Blob([Buffer.alloc(2 * 1024 * 1024, 'x')]), 'big.bin');
    const refused = await send(large);
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({ detail: expect.any(String) });
    const json = await rest(t, buyer.credential)('POST', '/autx/v1/orders/multipart', {
      body: { agent_id: agent.id, prompt: 'x' },
    });
    expect(json.status).toBe(400);
    expect(await credits(buyer.id)).toEqual({ posted: 2_000_000n - PRICE, held: 0n });
  });

  test('the reconciler settles orders a stopped process left PROCESSING or HELD, once', async () => {
    const agent = await listAgent(`${agentServer.base}/summarize`);
    const buyer = await fundedUser(t, 3_000_000n, 'Interrupted buyer');
    const agents = t.platform.subgraphs.find((subgraph) => subgraph.name === 'agents')!;
    const peers = createPeers(
      'agents',
      Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])),
      t.secrets.internal,
    );
    const deps = () => ({ em: agents.orm.em.fork() as unknown as EntityManager, peers, log: t.log });
    /** An order as a stopped process left it: stored, maybe held, maybe answered, not settled. */
    const leftBehind = async (id: string, status: string, held: boolean) => {
      if (held)
        await holdPayment(peers, buyer.id, {
          prefix: id,
          amountMinor: PRICE,
          asset: 'USD',
          memo: `order ${id}`,
        });
      await sql(
        t,
        `insert into "agents"."order" ("id", "buyer_id", "agent_id", "prompt", "payment_method", "price_minor",
           "asset", "status", "settlement", "output_text", "updated_at")
         values ($1, $2, $3, 'p', 'credits', $4, 'USD', $5, 'HELD', $6, now() - interval '1 hour')`,
        [id, buyer.id, agent.id, PRICE.toString(), status, status === 'COMPLETED' ? 'done' : null],
      );
    };
    await leftBehind('ord_test_processing', 'PROCESSING', true);
    await leftBehind('ord_test_unheld', 'PROCESSING', false);
    await leftBehind('ord_test_answered', 'COMPLETED', true);
    expect(await credits(buyer.id)).toEqual({ posted: 3_000_000n, held: 2n * PRICE });
    const ownerBefore = await credits(owner.id);

    expect(await reconcileOrders(deps(), 1000)).toBe(3);
    expect(await reconcileOrders(deps(), 1000)).toBe(0);
    const rows = await sql<{ id: string; status: string; settlement: string }>(
      t,
      `select "id", "status", "settlement" from "agents"."order" where "id" like 'ord_test_%' order by "id"`,
    );
    expect(rows).toEqual([
      { id: 'ord_test_answered', status: 'COMPLETED', settlement: 'RELEASED' },
      { id: 'ord_test_processing', status: 'FAILED', settlement: 'REFUNDED' },
      { id: 'ord_test_unheld', status: 'FAILED', settlement: 'REFUNDED' },
    ]);
    expect(await credits(buyer.id)).toEqual({ posted: 3_000_000n - PRICE, held: 0n });
    expect((await credits(owner.id)).posted - ownerBefore.posted).toBe(PRICE - FEE);
    expect(await figures(agent.id)).toEqual({ total_requests: 1, total_revenue: '0.50' });
  });
});
