/** Memory over REST: 001's store, search, recall, delete and stats; 002's tier views and search. */
import { ChatDocument, StartSessionDocument } from '../generated/graphql';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

let llm: LlmDouble;
let t: TestPlatform;
let user: User;
let api: Rest;
let other: Rest;
beforeAll(async () => {
  llm = await startLlmDouble();
  useUpstream(llm);
  t = await startTestPlatform();
  user = await t.register('Rest memory');
  api = rest(t, user.credential);
  other = rest(t, (await t.register('Other')).credential);
});
afterAll(async () => {
  await t.close();
  await llm.close();
});

const remember = async (body: Record<string, unknown>, caller = api) => {
  const { status, body: entry } = await caller('POST', '/api/memory', { body });
  expect(status).toBe(200);
  return entry;
};

describe('001', () => {
  test('POST /api/memory/search answers {results, total, query}, ranked, with snippets and filters', async () => {
    await remember({ content: 'Kubernetes pods restart on OOM kills', category: 'infra', importance: 0.8 });
    await remember({ content: 'The pods of whales migrate; OOM is unrelated', category: 'nature' });
    await remember({ content: 'Kubernetes pods restart on OOM kills', metadata: { env: 'prod' } }, other);

    const found = await api('POST', '/api/memory/search', { body: { query: 'pods restart', limit: 5 } });
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      results: [
        expect.objectContaining({
          content: 'Kubernetes pods restart on OOM kills',
          category: 'infra',
          tier: 'semantic',
          score: expect.any(Number),
          snippet: expect.stringContaining('«pods» «restart»'),
          created_at: ISO,
        }),
      ],
      total: 1,
      query: 'pods restart',
    });
    const filtered = await api('POST', '/api/memory/search', {
      body: { query: 'pods OR oom', filters: { category: 'nature' } },
    });
    expect(filtered.body.results.map((r: { category: string }) => r.category)).toEqual(['nature']);
    const byMetadata = await other('POST', '/api/memory/search', {
      body: { query: 'pods', filters: { metadata: { env: 'prod' }, tier: 'semantic' } },
    });
    expect(byMetadata.body.total).toBe(1);
  });

  test('bad searches are 422 {"detail"}; hostile text is never a 500', async () => {
    for (const body of [
      {},
      { query: '' },
      { query: 'x'.repeat(10_240) },
      { query: 'a', limit: 0 },
      { query: 'a', filters: { tier: 'dream' } },
      { query: 'a', filters: { colour: 'red' } },
      { query: 'a', filters: 'tier' },
    ]) {
      const { status, body: answer } = await api('POST', '/api/memory/search', { body });
      expect({ body, status }).toEqual({ body, status: 422 });
      expect(answer).toEqual({ detail: expect.any(String) });
    }
    for (const query of ["& | ! : * ( ) '", 'the of and', "'):*!(", '\\']) {
      const { status, body } = await api('POST', '/api/memory/search', { body: { query } });
      expect(status).toBe(200);
      expect(body.results).toEqual(expect.any(Array));
    }
  });

  test('GET /api/memory/recall?q= marks what it returns; DELETE is the owner’s; stats count one account', async () => {
    const entry = await remember({ content: 'Backups run nightly at 02:00', category: 'ops' });
    const recalled = await api('GET', '/api/memory/recall?q=backups%20nightly');
    expect(recalled.status).toBe(200);
    expect(recalled.body.results).toEqual([
      expect.objectContaining({ id: entry.id, recall_count: 1, last_recalled_at: ISO }),
    ]);
    expect((await api('GET', '/api/memory/recall')).status).toBe(422);

    const stats = await api('GET', '/api/memory/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({
      status: 'ok',
      backend: 'postgresql',
      total: 3,
      by_tier: { working: 0, episodic: 0, semantic: 3 },
      by_category: { infra: 1, nature: 1, ops: 1 },
      recalled: 1,
      healthy: true,
      oldest: ISO,
      newest: ISO,
    });

    expect((await other('DELETE', `/api/memory/${entry.id}`)).status).toBe(404);
    expect(await api('DELETE', `/api/memory/${entry.id}`)).toMatchObject({
      status: 200,
      body: { deleted: true, id: entry.id },
    });
    expect((await api('DELETE', `/api/memory/${entry.id}`)).body).toEqual({ detail: expect.any(String) });
    expect((await api('GET', '/api/memory/stats')).body.total).toBe(2);
  });
});

describe('002', () => {
  test('working, episodic and semantic views; categories; GET search needs q (400 {"error"})', async () => {
    // An account of its own, so the figures are this test's alone.
    const tiers = await t.register('Tiers');
    const api = rest(t, tiers.credential);
    const { startSession } = await tiers.data(StartSessionDocument, { input: {} });
    await tiers.data(ChatDocument, {
      input: { sessionId: startSession.id, content: 'Where do backups go?' },
    });
    await remember({ content: 'Backups go to the eu-west bucket', category: 'ops' }, api);

    const working = await api('GET', `/runtime/api/memory/working/${startSession.id}`);
    expect(working.status).toBe(200);
    expect(working.body).toMatchObject({ session_id: startSession.id, count: 2 });
    expect(working.body.entries.map((e: { content: string }) => e.content)).toEqual([
      ANSWER.join(''),
      'Where do backups go?',
    ]);
    expect((await api('GET', '/runtime/api/memory/working')).body.count).toBe(2);
    expect((await other('GET', '/runtime/api/memory/working')).body.count).toBe(0);

    const episodic = await api('GET', '/runtime/api/memory/episodic');
    expect(episodic.body.entries).toEqual([
      expect.objectContaining({ tier: 'episodic', session_id: startSession.id, source: 'chat' }),
    ]);
    const categories = await api('GET', '/runtime/api/memory/semantic/categories');
    expect(categories.body).toEqual({
      categories: [{ category: 'ops', count: 1 }],
      count: 1,
    });
    const ops = await api('GET', '/runtime/api/memory/semantic/ops');
    expect(ops.body).toMatchObject({ category: 'ops', count: 1 });
    expect((await api('GET', '/runtime/api/memory/semantic')).body.count).toBe(1);

    const searched = await api('GET', '/runtime/api/memory/search?q=backups');
    expect(searched.status).toBe(200);
    expect(searched.body.count).toBe(3);
    expect(searched.body.results.map((r: { tier: string }) => r.tier).sort()).toEqual([
      'episodic',
      'semantic',
      'working',
    ]);
    for (const path of [
      '/runtime/api/memory/search',
      '/runtime/api/memory/search?q=',
      '/runtime/api/memory/search?q=a&limit=1000',
    ]) {
      const refused = await api('GET', path);
      expect({ path, status: refused.status, body: refused.body }).toEqual({
        path,
        status: 400,
        body: { error: expect.any(String) },
      });
    }
  });
});
