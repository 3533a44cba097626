/**
 * The marketplace Agent in the AUTX (003) and x402 (004) dialects: each route in its documented
 * shape, each dialect's own asset, sorts and filters, ownership, pause, hermesx402's `/agents/me…`
 * routes as its CLI calls them, and hostile input refused in the dialect's error format.
 */
import {
  ClaimTaskDocument,
  StartTaskDocument,
  ConfirmTaskDocument,
  CreateApiKeyDocument,
  CreateTaskDocument,
  DeleteAgentDocument,
  DeliverTaskDocument,
} from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { sql } from '../tasks.support';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let ada: User;
let bob: User;
let adaApi: Rest;
let bobApi: Rest;
beforeAll(async () => {
  t = await startTestPlatform();
  [ada, bob] = [await t.register('Ada'), await t.register('Bob')];
  [adaApi, bobApi] = [rest(t, ada.credential), rest(t, bob.credential)];
});
afterAll(() => t.close());

const WALLET = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

describe('AUTX (003)', () => {
  let id: string;

  test('POST /agents/ keeps category, endpoint_url, auth_tier and manifest; 201 in the agent shape', async () => {
    const { status, body } = await adaApi('POST', '/autx/v1/agents/', {
      body: {
        name: 'Summarizer Pro',
        ticker: 'SUMM',
        description: 'Text summarization agent',
        category: 'Productivity',
        endpoint_url: 'https://summ.example.com/process',
        service_price: 0.5,
        auth_tier: 'jwt_default',
        manifest: { version: '1.0.0' },
      },
    });
    expect(status).toBe(201);
    expect(body).toEqual({
      id: expect.stringMatching(/^agt_/),
      name: 'Summarizer Pro',
      ticker: 'SUMM',
      description: 'Text summarization agent',
      category: 'Productivity',
      service_price: '0.50',
      endpoint_url: 'https://summ.example.com/process',
      status: 'active',
      auth_tier: 'jwt_default',
      manifest: { version: '1.0.0' },
      total_requests: 0,
      total_revenue: '0.00',
    });
    expect(Object.keys(body)).toEqual([
      'id',
      'name',
      'ticker',
      'description',
      'category',
      'service_price',
      'endpoint_url',
      'status',
      'auth_tier',
      'manifest',
      'total_requests',
      'total_revenue',
    ]);
    id = body.id;
  });

  test('PATCH /agents/{id} changes the owner’s agent; another account’s is 404 {detail}', async () => {
    const patched = await adaApi('PATCH', `/autx/v1/agents/${id}`, {
      body: { service_price: '0.75', category: 'Writing' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      service_price: '0.75',
      category: 'Writing',
      name: 'Summarizer Pro',
    });

    const foreign = await bobApi('PATCH', `/autx/v1/agents/${id}`, { body: { name: 'Stolen' } });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ detail: expect.any(String) });
    expect((await adaApi('GET', `/autx/v1/agents/${id}`)).body.name).toBe('Summarizer Pro');
  });

  test('GET /agents/ lists only USD agents; category filters (any case); sorts from real figures', async () => {
    await adaApi('POST', '/x402/v1/agents', { body: { name: 'sol-bot', rate: 0.1 } });
    await adaApi('POST', '/autx/v1/agents/', {
      body: { name: 'Writer', ticker: 'WRTR', category: 'writing', service_price: '2.00' },
    });
    const all = await adaApi('GET', '/autx/v1/agents/');
    expect(all.status).toBe(200);
    expect(all.body.map((a: { ticker: string }) => a.ticker)).toEqual(['WRTR', 'SUMM']);
    const writing = await adaApi('GET', '/autx/v1/agents/?category=WRITING');
    expect(writing.body.map((a: { ticker: string }) => a.ticker)).toEqual(['WRTR', 'SUMM']);
    expect((await adaApi('GET', '/autx/v1/agents/?category=Nothing')).body).toEqual([]);
    for (const sort of ['trending', 'mcap', 'apy', 'new', 'revenue']) {
      const sorted = await adaApi('GET', `/autx/v1/agents/?sort=${sort}`);
      expect(sorted.status).toBe(200);
      // No figures yet: every sort ties, and ties go newest first.
      expect(sorted.body.map((a: { ticker: string }) => a.ticker)).toEqual(['WRTR', 'SUMM']);
    }
    const bad = await adaApi('GET', '/autx/v1/agents/?sort=hot');
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(/sort/);
  });

  test('each sort orders a seeded marketplace by its own figure (distinct figures, one category)', async () => {
    // price $, requests, tasks completed, revenue $ → mcap = price × tasks, apy = revenue / requests
    const seed = [
      ['SRTA', '1.00', 9, 1, 500_000], // mcap 1, apy 0.056
      ['SRTB', '0.50', 3, 10, 3_000_000], // mcap 5, apy 1.0
      ['SRTC', '4.00', 5, 2, 1_000_000], // mcap 8, apy 0.2
    ] as const;
    for (const [ticker, price, requests, completed, revenue] of seed) {
      const { body } = await adaApi('POST', '/autx/v1/agents/', {
        body: { name: ticker, ticker, category: 'Sortcheck', service_price: price },
      });
      await sql(
        t,
        `update "agents"."agent" set "total_requests" = $2, "tasks_completed" = $3, "total_revenue_minor" = $4
         where "id" = $1`,
        [body.id, requests, completed, revenue],
      );
    }
    const order = async (sort: string) =>
      (await adaApi('GET', `/autx/v1/agents/?sort=${sort}&category=Sortcheck`)).body.map(
        (a: { ticker: string }) => a.ticker,
      );
    expect(await order('trending')).toEqual(['SRTA', 'SRTC', 'SRTB']);
    expect(await order('mcap')).toEqual(['SRTC', 'SRTB', 'SRTA']);
    expect(await order('apy')).toEqual(['SRTB', 'SRTC', 'SRTA']);
    expect(await order('revenue')).toEqual(['SRTB', 'SRTC', 'SRTA']);
    expect(await order('new')).toEqual(['SRTC', 'SRTB', 'SRTA']);
    const shown = (await adaApi('GET', '/autx/v1/agents/?sort=revenue&category=Sortcheck')).body[0];
    expect(shown).toMatchObject({ ticker: 'SRTB', total_requests: 3, total_revenue: '3.00' });
  });

  test.each([
    ['a bad endpoint_url', { endpoint_url: 'file:///etc/passwd' }],
    ['a huge manifest', { manifest: { blob: 'x'.repeat(20_000) } }],
    ['a NUL in the name', { name: 'Bad\u0000Name' }],
    ['a negative price', { service_price: '-1.00' }],
  ])('%s is 422 {detail}', async (_case, body) => {
    const created = await adaApi('POST', '/autx/v1/agents/', {
      body: { name: 'Bad', ticker: 'BADX', ...body },
    });
    expect(created.status).toBe(422);
    expect(created.body).toEqual({ detail: expect.any(String) });
    const patched = await adaApi('PATCH', `/autx/v1/agents/${id}`, { body });
    expect(patched.status).toBe(422);
  });
});

describe('x402 (004)', () => {
  let id: string;

  test('POST /agents registers with tags, endpoint, wallet, max_concurrent: 201 {id, name, status, rate}', async () => {
    const response = await adaApi('POST', '/x402/v1/agents', {
      body: {
        name: 'research-bot',
        description: 'Deep research on any topic',
        tags: ['research', 'analysis'],
        rate: 0.1,
        endpoint: 'https://bot.example.com/task',
        wallet: WALLET,
        max_concurrent: 3,
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect(response.body).toEqual({
      id: expect.stringMatching(/^agt_/),
      name: 'research-bot',
      status: 'active',
      rate: 0.1,
    });
    id = response.body.id;
  });

  test('GET /agents/:id answers the documented detail: tags, wallet and max_concurrent kept', async () => {
    const { status, body } = await adaApi('GET', `/x402/v1/agents/${id}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      id,
      name: 'research-bot',
      description: 'Deep research on any topic',
      tags: ['research', 'analysis'],
      rate: 0.1,
      rating: null,
      tasks_completed: 0,
      status: 'online',
      wallet: WALLET,
      max_concurrent: 3,
      created_at: ISO,
    });
  });

  test('a USD agent is in neither the SOL list nor the SOL detail', async () => {
    const usd = await adaApi('POST', '/autx/v1/agents/', {
      body: { name: 'Dollar', ticker: 'USDBOT', service_price: '1.00' },
    });
    const list = await adaApi('GET', '/x402/v1/agents?limit=100');
    expect(list.body.agents.map((a: { id: string }) => a.id)).not.toContain(usd.body.id);
    const one = await adaApi('GET', `/x402/v1/agents/${usd.body.id}`);
    expect(one.status).toBe(404);
    expect(one.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
  });

  test('a USD agent is not changed through x402 (404); /agents/me… picks the SOL agent; AUTX hides SOL ones', async () => {
    const eveUser = await t.register('Eve');
    const eve = rest(t, eveUser.credential);
    const sol = await eve('POST', '/x402/v1/agents', { body: { name: 'eve-sol', rate: 0.3 } });
    const usd = await eve('POST', '/autx/v1/agents/', {
      body: { name: 'Eve Dollar', ticker: 'EVEUSD', service_price: '1.00' },
    });
    expect([sol.status, usd.status]).toEqual([201, 201]);
    for (const [method, path, body] of [
      ['PATCH', `/x402/v1/agents/${usd.body.id}`, { rate: 9 }],
      ['POST', `/x402/v1/agents/${usd.body.id}/pause`, undefined],
      ['POST', `/x402/v1/agents/${usd.body.id}/unpause`, undefined],
    ] as const) {
      const refused = await eve(method, path, { body });
      expect(refused.status).toBe(404);
      expect(refused.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
    }
    // The newest agent is the USD one; x402's "me" is still the SOL one, and only it is paused.
    expect((await eve('GET', '/x402/v1/agents/me')).body).toMatchObject({ id: sol.body.id, rate: 0.3 });
    expect((await eve('POST', '/x402/v1/agents/me/pause')).body).toMatchObject({ id: sol.body.id });
    const dollar = await eve('GET', `/autx/v1/agents/${usd.body.id}`);
    expect(dollar.body).toMatchObject({ status: 'active', service_price: '1.00' });
    // AUTX speaks USD: the SOL agent is 404 to read or change.
    const read = await eve('GET', `/autx/v1/agents/${sol.body.id}`);
    expect(read.status).toBe(404);
    expect(read.body).toEqual({ detail: expect.any(String) });
    const patched = await eve('PATCH', `/autx/v1/agents/${sol.body.id}`, { body: { name: 'renamed' } });
    expect(patched.status).toBe(404);
    expect((await eve('GET', `/x402/v1/agents/${sol.body.id}`)).body.name).toBe('eve-sol');
    // Deleted, it leaves the SOL list the next test counts on.
    await eveUser.data(DeleteAgentDocument, { id: sol.body.id });
    expect((await eve('GET', `/x402/v1/agents/${sol.body.id}`)).status).toBe(404);
  });

  test('PATCH /agents/:id, pause and unpause: the owner’s agent; another account’s is 404 {error, code}', async () => {
    const patched = await adaApi('PATCH', `/x402/v1/agents/${id}`, {
      body: { rate: 0.2, tags: ['research', 'finance', 'crypto'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, rate: 0.2, tags: ['research', 'finance', 'crypto'] });

    for (const [method, path, body] of [
      ['PATCH', `/x402/v1/agents/${id}`, { rate: 9 }],
      ['POST', `/x402/v1/agents/${id}/pause`, undefined],
      ['POST', `/x402/v1/agents/${id}/unpause`, undefined],
    ] as const) {
      const refused = await bobApi(method, path, { body });
      expect(refused.status).toBe(404);
      expect(refused.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
    }

    const paused = await adaApi('POST', `/x402/v1/agents/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    const listed = await adaApi('GET', '/x402/v1/agents?tag=finance');
    expect(listed.body.agents).toEqual([expect.objectContaining({ id, status: 'paused', rate: 0.2 })]);
    const unpaused = await adaApi('POST', `/x402/v1/agents/${id}/unpause`);
    expect(unpaused.body.status).toBe('online');
  });

  test('pause stops new claims (409 through the task routes); unpause lets them through', async () => {
    const { createTask: task } = await ada.data(CreateTaskDocument, {
      input: { title: 'Hire', rewardMinor: '1' },
    });
    await adaApi('POST', `/x402/v1/agents/${id}/pause`);
    const refused = await adaApi('POST', `/x402/v1/tasks/${task.id}/accept`, { body: { agent_id: id } });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: expect.stringMatching(/paused/), code: 'CONFLICT' });
    await adaApi('POST', `/x402/v1/agents/${id}/unpause`);
    const accepted = await adaApi('POST', `/x402/v1/tasks/${task.id}/accept`, { body: { agent_id: id } });
    expect(accepted.status).toBe(200);
  });

  test('a task accepted before a pause goes on to its end while the agent is paused', async () => {
    // An agent of its own, deleted at the end, so the figures the next tests count stay theirs.
    const own = (await adaApi('POST', '/x402/v1/agents', { body: { name: 'pause-bot', rate: 0.1 } })).body.id;
    const { createTask: task } = await ada.data(CreateTaskDocument, {
      input: { title: 'Under way', rewardMinor: '1' },
    });
    expect(
      (await adaApi('POST', `/x402/v1/tasks/${task.id}/accept`, { body: { agent_id: own } })).status,
    ).toBe(200);
    expect((await adaApi('POST', `/x402/v1/agents/${own}/pause`)).body.status).toBe('paused');
    try {
      expect((await ada.data(StartTaskDocument, { id: task.id })).startTask.status).toBe('IN_PROGRESS');
      await ada.data(DeliverTaskDocument, { id: task.id, input: { result: 'delivered while paused' } });
      const { confirmTask } = await ada.data(ConfirmTaskDocument, { id: task.id, input: {} });
      expect(confirmTask.status).toBe('COMPLETED');
    } finally {
      await ada.data(DeleteAgentDocument, { id: own });
    }
  });

  test('a confirmed, rated task shows in rating and tasks_completed', async () => {
    const { createTask: task } = await ada.data(CreateTaskDocument, {
      input: { title: 'Rated', rewardMinor: '1' },
    });
    await ada.data(ClaimTaskDocument, { id: task.id, agentId: id });
    await ada.data(DeliverTaskDocument, { id: task.id, input: { result: 'report' } });
    await ada.data(ConfirmTaskDocument, { id: task.id, input: { rating: 4 } });
    const { body } = await adaApi('GET', `/x402/v1/agents/${id}`);
    expect(body).toMatchObject({ rating: 4, tasks_completed: 1 });
  });

  test('GET /agents: tag, max_rate, min_rating, sort rating|price|tasks, limit; none matching is empty', async () => {
    const names = async (query: string) =>
      (await adaApi('GET', `/x402/v1/agents?${query}`)).body.agents.map((a: { name: string }) => a.name);
    await adaApi('POST', '/x402/v1/agents', { body: { name: 'cheap-bot', rate: 0.01, tags: ['research'] } });
    await adaApi('POST', '/x402/v1/agents', { body: { name: 'pricey-bot', rate: 1, tags: ['code'] } });
    // research-bot (0.2, rated 4, 1 task), sol-bot (0.1, from the AUTX block), cheap-bot, pricey-bot
    expect(await names('sort=price')).toEqual(['cheap-bot', 'sol-bot', 'research-bot', 'pricey-bot']);
    expect(await names('sort=rating')).toEqual(['research-bot', 'pricey-bot', 'cheap-bot', 'sol-bot']);
    expect(await names('sort=tasks')).toEqual(['research-bot', 'pricey-bot', 'cheap-bot', 'sol-bot']);
    expect(await names('tag=research&sort=price')).toEqual(['cheap-bot', 'research-bot']);
    expect(await names('max_rate=0.1&sort=price')).toEqual(['cheap-bot', 'sol-bot']);
    expect(await names('min_rating=4')).toEqual(['research-bot']);
    expect(await names('min_rating=4.5')).toEqual([]);
    expect(await names('sort=price&limit=2')).toEqual(['cheap-bot', 'sol-bot']);
    expect(await names('tag=nothing')).toEqual([]);
    for (const query of ['sort=popular', 'min_rating=9', 'max_rate=abc', 'limit=0']) {
      const bad = await adaApi('GET', `/x402/v1/agents?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error: expect.any(String), code: 'INVALID_PARAMETERS' });
    }
  });

  test.each([
    ['a bad endpoint', { endpoint: 'gopher://bot.example.com' }],
    ['a malformed wallet', { wallet: '7xKXtg...' }],
    ['too many tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['a NUL in a tag', { tags: ['a\u0000b'] }],
    ['a zero max_concurrent', { max_concurrent: 0 }],
  ])('%s is 400 {error, code}', async (_case, body) => {
    const created = await adaApi('POST', '/x402/v1/agents', { body: { name: 'bad', rate: 0.1, ...body } });
    expect(created.status).toBe(400);
    expect(created.body).toEqual({ error: expect.any(String), code: expect.any(String) });
    expect((await adaApi('PATCH', `/x402/v1/agents/${id}`, { body })).status).toBe(400);
  });
});

describe("hermesx402's CLI: /agents/me… as the agent of the calling key", () => {
  let key: string;
  let cli: Rest;
  beforeAll(async () => {
    const carol = await t.register('Carol');
    await rest(t, carol.credential)('POST', '/x402/v1/agents', { body: { name: 'older', rate: 0.1 } });
    key = (await carol.data(CreateApiKeyDocument, { input: { name: 'cli', scopes: ['agents', 'tasks'] } }))
      .createApiKey.key;
    cli = rest(t, key);
  });

  test('before the key lists one, status answers the account’s newest; a stranger with none gets 404', async () => {
    expect((await cli('GET', '/x402/v1/agents/me')).body.name).toBe('older');
    const dave = await t.register('Dave');
    const none = await rest(t, dave.credential)('GET', '/x402/v1/agents/me');
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
  });

  test('list, status, update, pause, unpause with the bodies the CLI sends', async () => {
    // `hermes list --name cli-bot --tags a,b --rate 0.05 --wallet … --max-concurrent 2`
    const listed = await cli('POST', '/x402/v1/agents', {
      body: { name: 'cli-bot', tags: ['a', 'b'], rate: 0.05, wallet: WALLET, max_concurrent: 2 },
    });
    expect(listed.status).toBe(201);
    expect(listed.body.rate).toBe(0.05);

    const status = await cli('GET', '/x402/v1/agents/me');
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      id: listed.body.id,
      name: 'cli-bot',
      description: '',
      tags: ['a', 'b'],
      rate: 0.05,
      rating: null,
      tasks_completed: 0,
      status: 'online',
      wallet: WALLET,
      max_concurrent: 2,
      created_at: ISO,
    });

    // `hermes update --rate 0.07 --tags a,c --description …`
    const updated = await cli('PATCH', '/x402/v1/agents/me', {
      body: { rate: 0.07, tags: ['a', 'c'], description: 'now better' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: listed.body.id,
      rate: 0.07,
      tags: ['a', 'c'],
      description: 'now better',
    });

    const paused = await cli('POST', '/x402/v1/agents/me/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: listed.body.id, status: 'paused' });
    const unpaused = await cli('POST', '/x402/v1/agents/me/unpause');
    expect(unpaused.body).toMatchObject({ id: listed.body.id, status: 'online' });
  });
});
