/**
 * The marketplace Agent through GraphQL: every field kept, hostile input refused, sorts and filters
 * over a seeded marketplace (ties and empty results), ownership of writes, pause refusing new work,
 * and the derived figures following confirmed, rated tasks.
 */
import pg from 'pg';
import {
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateApiKeyDocument,
  CreateMarketplaceAgentDocument,
  CreateTaskDocument,
  DeleteAgentDocument,
  DeliverTaskDocument,
  MarketplaceAgentDocument,
  MarketplaceAgentsDocument,
  MyMarketplaceAgentsDocument,
  PauseAgentDocument,
  StartTaskDocument,
  UnpauseAgentDocument,
  UpdateAgentDocument,
  type AgentSort,
  type CreateAgentInput,
} from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { registerAdmin } from './tasks.support';

let t: TestPlatform;
let ada: User;
let bob: User;
beforeAll(async () => {
  t = await startTestPlatform();
  [ada, bob] = [await t.register('Ada'), await t.register('Bob')];
});
afterAll(() => t.close());

let tickers = 0;
const create = async (owner: User, input: Partial<CreateAgentInput> = {}) =>
  (
    await owner.data(CreateMarketplaceAgentDocument, {
      input: { name: 'Agent', ticker: `MK${++tickers}`, ...input },
    })
  ).createAgent;

/** Sets derived figures directly: orders (revenue) do not exist yet to produce them. */
async function seedFigures(id: string, figures: Record<string, number>) {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    const columns = Object.keys(figures).map((column, index) => `"${column}" = $${index + 2}`);
    await client.query(`update "agents"."agent" set ${columns.join(', ')} where "id" = $1`, [
      id,
      ...Object.values(figures),
    ]);
  } finally {
    await client.end();
  }
}

const SOLANA = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

test('createAgent keeps every documented field; derived figures start empty', async () => {
  const agent = await create(ada, {
    name: 'Research Bot',
    description: 'Deep research',
    category: 'Research',
    tags: ['Research', 'analysis', 'research'],
    endpointUrl: 'https://bot.example.com/task',
    wallet: SOLANA,
    priceMinor: '100000000',
    asset: 'SOL',
    authTier: 'api_key',
    manifest: { version: '1.0.0', capabilities: ['web-search'] },
    maxConcurrent: 3,
  });
  expect(agent).toMatchObject({
    category: 'Research',
    tags: ['research', 'analysis'],
    endpointUrl: 'https://bot.example.com/task',
    wallet: SOLANA,
    priceMinor: '100000000',
    asset: 'SOL',
    authTier: 'api_key',
    manifest: { version: '1.0.0', capabilities: ['web-search'] },
    maxConcurrent: 3,
    status: 'ACTIVE',
    acceptsWork: true,
    rating: null,
    ratingCount: 0,
    tasksCompleted: 0,
    tasksFailed: 0,
    successRate: null,
    totalRequests: '0',
    totalRevenueMinor: '0',
  });
});

test.each([
  ['endpointUrl', { endpointUrl: 'ftp://bot.example.com' }],
  ['endpointUrl', { endpointUrl: 'javascript:alert(1)' }],
  ['endpointUrl', { endpointUrl: 'https://user:pw@bot.example.com' }],
  ['endpointUrl', { endpointUrl: 'not a url' }],
  ['wallet', { wallet: '7xKXtg' }],
  ['wallet', { wallet: '0x123' }],
  ['tags', { tags: Array.from({ length: 11 }, (_, i) => `tag${i}`) }],
  ['tags', { tags: ['x'.repeat(33)] }],
  ['tags', { tags: [' '] }],
  ['manifest', { manifest: { blob: 'x'.repeat(20_000) } }],
  ['maxConcurrent', { maxConcurrent: 0 }],
  ['priceMinor', { priceMinor: '-1' }],
  // One past the business maximum (10^15); past 64 bits the BigInt scalar refuses it before the resolver.
  ['priceMinor', { priceMinor: '1000000000000001' }],
  ['authTier', { authTier: 'Root Access' }],
  ['name', { name: 'x'.repeat(101) }],
  ['category', { category: 'c'.repeat(51) }],
])('createAgent refuses a bad %s with BAD_USER_INPUT and stores nothing', async (field, input) => {
  const before = (await t.data(MarketplaceAgentsDocument, {})).agents.totalCount;
  const { body } = await ada.request(CreateMarketplaceAgentDocument, {
    input: { name: 'Bad', ticker: `BAD${++tickers}`, ...input },
  });
  expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect((await t.data(MarketplaceAgentsDocument, {})).agents.totalCount).toBe(before);
});

test('a NUL in any text is refused before it is stored', async () => {
  const { body } = await ada.request(CreateMarketplaceAgentDocument, {
    input: { name: 'Nul\u0000Bot', ticker: 'NULBOT' },
  });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  const tags = await ada.request(CreateMarketplaceAgentDocument, {
    input: { name: 'Tags', ticker: 'NULTAG', tags: ['a\u0000b'] },
  });
  expect(tags.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

describe('a seeded marketplace', () => {
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const seed: [string, Partial<CreateAgentInput>, Record<string, number>][] = [
      [
        'cheap',
        { category: 'Data', tags: ['data'], priceMinor: '10' },
        { tasks_completed: 5, rating_sum: 20, rating_count: 5 },
      ],
      [
        'tied',
        { category: 'Data', tags: ['data', 'research'], priceMinor: '50' },
        { tasks_completed: 5, rating_sum: 20, rating_count: 5 },
      ],
      [
        'best',
        { category: 'Research', tags: ['research'], priceMinor: '90' },
        { tasks_completed: 1, rating_sum: 5, rating_count: 1, total_requests: 9, total_revenue_minor: 900 },
      ],
      [
        'unrated',
        { category: 'Research', priceMinor: '30' },
        { total_requests: 2, total_revenue_minor: 1000 },
      ],
    ];
    for (const [name, input, figures] of seed) {
      ids[name] = (await create(bob, { name, asset: 'USDC', ...input })).id;
      await seedFigures(ids[name], figures);
    }
  });

  const names = async (sort: AgentSort, extra: Record<string, unknown> = {}) =>
    (await t.data(MarketplaceAgentsDocument, { asset: 'USDC', sort, ...extra })).agents.nodes.map(
      (a) => Object.entries(ids).find(([, id]) => id === a.id)?.[0],
    );

  test('each sort orders by its figure; ties go newest first', async () => {
    expect(await names('NEW')).toEqual(['unrated', 'best', 'tied', 'cheap']);
    expect(await names('RATING')).toEqual(['best', 'tied', 'cheap', 'unrated']);
    expect(await names('PRICE')).toEqual(['cheap', 'unrated', 'tied', 'best']);
    expect(await names('TASKS')).toEqual(['tied', 'cheap', 'best', 'unrated']);
    expect(await names('REQUESTS')).toEqual(['best', 'unrated', 'tied', 'cheap']);
    expect(await names('REVENUE')).toEqual(['unrated', 'best', 'tied', 'cheap']);
    expect(await names('VALUE')).toEqual(['tied', 'best', 'cheap', 'unrated']); // 250, 90, 50, 0
    expect(await names('YIELD')).toEqual(['unrated', 'best', 'tied', 'cheap']); // 500, 100, 0, 0
  });

  test('pages of one follow the sort through its ties without gap or repeat', async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const { agents } = await t.data(MarketplaceAgentsDocument, {
        asset: 'USDC',
        sort: 'RATING',
        first: 1,
        after,
      });
      seen.push(...agents.nodes.map((a) => a.id));
      if (!agents.pageInfo.hasNextPage) break;
      after = agents.pageInfo.endCursor;
    }
    expect(seen).toEqual([ids.best, ids.tied, ids.cheap, ids.unrated]);
  });

  test('filters: category (any case), tag, price, rating, status; none matching is an empty page', async () => {
    expect(await names('NEW', { category: 'data' })).toEqual(['tied', 'cheap']);
    expect(await names('NEW', { tag: 'RESEARCH' })).toEqual(['best', 'tied']);
    expect(await names('PRICE', { maxPriceMinor: '50' })).toEqual(['cheap', 'unrated', 'tied']);
    expect(await names('RATING', { minRating: 4.5 })).toEqual(['best']);
    expect(await names('NEW', { status: 'PAUSED' })).toEqual([]);
    const empty = await t.data(MarketplaceAgentsDocument, { asset: 'USDC', tag: 'nothing-has-this' });
    expect(empty.agents).toEqual({
      totalCount: 0,
      nodes: [],
      pageInfo: { endCursor: null, hasNextPage: false },
    });
  });

  test('a forged cursor or a rating out of range is BAD_USER_INPUT', async () => {
    for (const variables of [{ after: 'bm90LWEtY3Vyc29y' }, { minRating: 6 }]) {
      const { body } = await t.request(MarketplaceAgentsDocument, variables);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

test("updateAgent changes the owner's listing; another account's is NOT_FOUND and unchanged", async () => {
  const agent = await create(ada, { tags: ['one'] });
  const updated = await ada.data(UpdateAgentDocument, {
    id: agent.id,
    input: { tags: ['two', 'three'], category: 'Ops', priceMinor: '7', maxConcurrent: null },
  });
  expect(updated.updateAgent).toMatchObject({ tags: ['two', 'three'], category: 'Ops', priceMinor: '7' });
  expect(Date.parse(updated.updateAgent.updatedAt)).toBeGreaterThanOrEqual(Date.parse(agent.updatedAt));

  const refusals = [
    await bob.request(PauseAgentDocument, { id: agent.id }),
    await bob.request(UnpauseAgentDocument, { id: agent.id }),
  ];
  for (const { body } of refusals) expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  const foreign = await bob.request(UpdateAgentDocument, { id: agent.id, input: { name: 'Mine now' } });
  expect(foreign.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect((await t.data(MarketplaceAgentDocument, { id: agent.id })).agent.name).toBe('Agent');

  const wrongAsset = await ada.request(UpdateAgentDocument, {
    id: agent.id,
    input: { priceMinor: '1', priceAsset: 'SOL' },
  });
  expect(wrongAsset.body.errors?.[0].extensions).toMatchObject({
    code: 'BAD_USER_INPUT',
    field: 'priceAsset',
  });
});

test('myAgents lists your listings; myAgent is the one listed with the calling key', async () => {
  const carol = await t.register('Carol');
  const first = await create(carol);
  const { createApiKey } = await carol.data(CreateApiKeyDocument, {
    input: { name: 'bot', scopes: ['agents'] },
  });
  const keyed = t.client(createApiKey.key);
  const listedWithKey = await keyed.data(CreateMarketplaceAgentDocument, {
    input: { name: 'K', ticker: 'KEYED1' },
  });
  await create(carol); // newer, but not the key's
  const viaKey = await keyed.data(MyMarketplaceAgentsDocument, {});
  expect(viaKey.myAgents.totalCount).toBe(3);
  expect(viaKey.myAgent.id).toBe(listedWithKey.createAgent.id);
  expect((await carol.data(MyMarketplaceAgentsDocument, {})).myAgent.id).not.toBe(first.id);
});

test('a paused agent gets no new tasks (create or claim are CONFLICT); unpaused it does', async () => {
  const agent = await create(ada);
  const { createTask: task } = await ada.data(CreateTaskDocument, {
    input: { title: 'Work', rewardMinor: '1' },
  });
  const paused = await ada.data(PauseAgentDocument, { id: agent.id });
  expect(paused.pauseAgent).toMatchObject({ status: 'PAUSED', acceptsWork: false });

  const claim = await ada.request(ClaimTaskDocument, { id: task.id, agentId: agent.id });
  expect(claim.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'agentId' });
  const created = await ada.request(CreateTaskDocument, { input: { title: 'More', agentId: agent.id } });
  expect(created.body.errors?.[0].extensions?.code).toBe('CONFLICT');

  await ada.data(UnpauseAgentDocument, { id: agent.id });
  expect((await ada.data(ClaimTaskDocument, { id: task.id, agentId: agent.id })).claimTask.status).toBe(
    'ACCEPTED',
  );
});

test('maxConcurrent: a claim or hire past the tasks under way is CONFLICT; a delivery frees a place', async () => {
  const agent = await create(ada, { maxConcurrent: 1 });
  const task = async (title: string) =>
    (await ada.data(CreateTaskDocument, { input: { title, rewardMinor: '1' } })).createTask;
  const [first, second] = [await task('First'), await task('Second')];
  await ada.data(ClaimTaskDocument, { id: first.id, agentId: agent.id });
  const full = await ada.request(ClaimTaskDocument, { id: second.id, agentId: agent.id });
  expect(full.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', maxConcurrent: 1 });
  expect(full.body.errors?.[0].message).toMatch(/max_concurrent 1/);
  const hire = await ada.request(CreateTaskDocument, { input: { title: 'Hire', agentId: agent.id } });
  expect(hire.body.errors?.[0].extensions?.code).toBe('CONFLICT');
  await ada.data(DeliverTaskDocument, { id: first.id, input: { result: 'done' } });
  expect((await ada.data(ClaimTaskDocument, { id: second.id, agentId: agent.id })).claimTask.status).toBe(
    'ACCEPTED',
  );
  // Claims racing for the last places: exactly as many win as there are places.
  const busy = await create(ada, { maxConcurrent: 2 });
  const racing = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map(task));
  const claims = await Promise.all(
    racing.map(({ id }) => ada.request(ClaimTaskDocument, { id, agentId: busy.id })),
  );
  expect(claims.filter((claim) => claim.body.data?.claimTask?.status === 'ACCEPTED')).toHaveLength(2);
  expect(claims.filter((claim) => claim.body.errors?.[0].extensions?.code === 'CONFLICT')).toHaveLength(4);
  // Without a limit there is none.
  const free = await create(ada);
  for (const title of ['a', 'b', 'c'])
    await ada.data(ClaimTaskDocument, { id: (await task(title)).id, agentId: free.id });
});

test('deleteAgent: owner or admin; it leaves lists and reads, takes no new task; a task under way goes on', async () => {
  const agent = await create(ada, { name: 'Doomed' });
  const { createTask: task } = await ada.data(CreateTaskDocument, {
    input: { title: 'Under way', rewardMinor: '1' },
  });
  await ada.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });

  const foreign = await bob.request(DeleteAgentDocument, { id: agent.id });
  expect(foreign.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect((await t.data(MarketplaceAgentDocument, { id: agent.id })).agent.status).toBe('ACTIVE');

  const { deleteAgent: deleted } = await ada.data(DeleteAgentDocument, { id: agent.id });
  expect(deleted).toMatchObject({ id: agent.id, status: 'DELETED', acceptsWork: false });
  expect(deleted.deletedAt).toEqual(expect.any(String));
  const read = await t.request(MarketplaceAgentDocument, { id: agent.id });
  expect(read.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  const listed = await t.data(MarketplaceAgentsDocument, { first: 100 });
  expect(listed.agents.nodes.map((a) => a.id)).not.toContain(agent.id);
  const mine = await ada.data(MyMarketplaceAgentsDocument, {});
  expect(mine.myAgents.nodes.map((a) => a.id)).not.toContain(agent.id);
  const again = await ada.request(DeleteAgentDocument, { id: agent.id });
  expect(again.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  const paused = await ada.request(PauseAgentDocument, { id: agent.id });
  expect(paused.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

  // The claimed task goes on to the end, and still points at the agent.
  expect((await ada.data(StartTaskDocument, { id: task.id })).startTask.agent?.id).toBe(agent.id);
  await ada.data(DeliverTaskDocument, { id: task.id, input: { result: 'done anyway' } });
  expect(
    (await ada.data(ConfirmTaskDocument, { id: task.id, input: { rating: 5 } })).confirmTask.status,
  ).toBe('COMPLETED');
  // No new task names it.
  const hire = await ada.request(CreateTaskDocument, { input: { title: 'More', agentId: agent.id } });
  expect(hire.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

  // An admin deletes anyone's agent.
  const admin = await registerAdmin(t);
  const bobs = await create(bob, { name: 'Bob’s' });
  expect((await admin.data(DeleteAgentDocument, { id: bobs.id })).deleteAgent.status).toBe('DELETED');
});

test('a confirmed, rated task moves rating, tasks completed, success rate and requests', async () => {
  const agent = await create(ada);
  const ratings = [5, 4];
  for (const rating of ratings) {
    const { createTask: task } = await ada.data(CreateTaskDocument, {
      input: { title: 'Rated', rewardMinor: '1' },
    });
    await ada.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });
    await ada.data(DeliverTaskDocument, { id: task.id, input: { result: 'done' } });
    await ada.data(ConfirmTaskDocument, { id: task.id, input: { rating } });
  }
  const { agent: after } = await t.data(MarketplaceAgentDocument, { id: agent.id });
  expect(after).toMatchObject({
    rating: 4.5,
    ratingCount: 2,
    tasksCompleted: 2,
    tasksFailed: 0,
    successRate: 100,
    totalRequests: '2',
    totalRevenueMinor: '0',
  });
});
