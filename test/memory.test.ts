/** Memory: ranked search, recall, filters, tiers the platform fills, figures and owner isolation. */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { signIdentity, IDENTITY_HEADER } from '../lib';
import {
  ChatDocument,
  CloseSessionDocument,
  FilteredMemoriesDocument,
  ForgetMemoryDocument,
  MemoryDocument,
  MyMemoryEventsDocument,
  MyMemoryStatsDocument,
  RecallMemoriesDocument,
  RememberFactDocument,
  SearchMemoriesDocument,
  StartSessionDocument,
  type MemoryFilter,
  type StoreMemoryInput,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe } from './support/subscriptions';
import { errorOf, sql } from './tasks.support';

let llm: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;

beforeAll(async () => {
  llm = await startLlmDouble();
  useUpstream(llm);
  t = await startTestPlatform();
  [ada, stranger] = [await t.register('Ada'), await t.register('Stranger')];
});
afterAll(async () => {
  await t.close();
  await llm.close();
});

const store = async (who: User, input: StoreMemoryInput) =>
  (await who.data(RememberFactDocument, { input })).storeMemory;
const search = (who: User, query: string, filter?: MemoryFilter, limit = 10) =>
  who.data(SearchMemoriesDocument, { query, filter, limit }).then((d) => d.searchMemory);
const contents = (result: { hits: { entry: { content: string } }[] }) =>
  result.hits.map((h) => h.entry.content);

describe('ranking', () => {
  let user: User;
  beforeAll(async () => {
    user = await t.register('Ranker');
  });

  test('an exact phrase outranks the same words scattered', async () => {
    await store(user, {
      content: 'The garden fox was grey; a brown fence stood far from the den',
      category: 'r1',
    });
    await store(user, { content: 'We saw a brown fox near the river this morning', category: 'r1' });
    const result = await search(user, 'brown fox', { category: 'r1' });
    expect(contents(result)).toEqual([
      'We saw a brown fox near the river this morning',
      'The garden fox was grey; a brown fence stood far from the den',
    ]);
    expect(result.hits[0].score).toBeGreaterThan(result.hits[1].score);
  });

  test('importance, then recency, break ties between equal matches', async () => {
    const low = await store(user, {
      content: 'Invoice numbers start at 1000',
      category: 'r2',
      importance: 0.1,
    });
    const high = await store(user, {
      content: 'Invoice numbers start at 1000',
      category: 'r2',
      importance: 0.9,
    });
    expect(contents(await search(user, 'invoice numbers', { category: 'r2' }))).toHaveLength(2);
    const ranked = (await search(user, 'invoice numbers', { category: 'r2' })).hits.map((h) => h.entry.id);
    expect(ranked).toEqual([high.id, low.id]);

    const old = await store(user, { content: 'The deploy key rotates monthly', category: 'r3' });
    const recent = await store(user, { content: 'The deploy key rotates monthly', category: 'r3' });
    await sql(
      t,
      `update "memory"."memory_entry" set "created_at" = now() - interval '90 days' where "id" = $1`,
      [old.id],
    );
    const byAge = (await search(user, 'deploy key', { category: 'r3' })).hits.map((h) => h.entry.id);
    expect(byAge).toEqual([recent.id, old.id]);
  });

  test('a misspelt word still finds its entry; snippets mark the matched words', async () => {
    await store(user, { content: 'Logical replication needs a publication on the primary', category: 'r4' });
    expect(contents(await search(user, 'replicaton', { category: 'r4' }))).toEqual([
      'Logical replication needs a publication on the primary',
    ]);
    const [hit] = (await search(user, 'publication primary', { category: 'r4' })).hits;
    expect(hit.snippet).toContain('«publication»');
    expect(hit.snippet).toContain('«primary»');
  });
});

describe('ranking an owner of many entries', () => {
  let user: User;
  /** `count` entries of `content` inserted at once, important and recent: ahead in rank order. */
  const seed = (count: number, content: string) =>
    sql(
      t,
      `insert into "memory"."memory_entry" ("id", "owner_id", "category", "content", "importance", "created_at")
       select 'mem_seed_' || $1 || '_' || g, $2, 'bulk', $3, 0.9, now() - g * interval '1 minute'
       from generate_series(1, $4) g`,
      [content.split(' ')[0], user.id, content, count],
    );
  beforeAll(async () => {
    user = await t.register('Hoarder');
    await seed(1_100, 'fox tracks seen by the brown gate');
  });

  test('the one exact phrase ranks first although 1,100 newer, more important entries hold the words', async () => {
    const phrase = await store(user, {
      content: 'A brown fox crossed the lane',
      importance: 0,
      category: 'old',
    });
    await sql(
      t,
      `update "memory"."memory_entry" set "created_at" = now() - interval '300 days' where "id" = $1`,
      [phrase.id],
    );
    const result = await search(user, 'brown fox', undefined, 3);
    expect(result.hits.map((h) => h.entry.id)[0]).toBe(phrase.id);
    expect(result.hits[0].score).toBeGreaterThan(2);
    expect(result.hits[1].score).toBeLessThan(2);
    expect(result.totalExact).toBe(false);
    expect(result.total).toBeGreaterThanOrEqual(3);
  });

  test('a rare word is found below the first thousand entries, and a misspelling of it too', async () => {
    const rare = await store(user, { content: 'The quokka enclosure opens at nine', importance: 0 });
    await sql(
      t,
      `update "memory"."memory_entry" set "created_at" = now() - interval '2 years' where "id" = $1`,
      [rare.id],
    );
    expect((await search(user, 'quokka')).hits.map((h) => h.entry.id)).toEqual([rare.id]);
    const typo = await search(user, 'quoka enclosure');
    expect(typo.hits.map((h) => h.entry.id)).toEqual([rare.id]);
    expect(typo.hits[0].score).toBeLessThan(1);
  });

  test('the estimated total of a large owner honours the filters (quotes and dates included); hits come without snippets when none are asked for', async () => {
    const bare = parse(
      'query ($query: String!, $filter: MemoryFilter) { searchMemory(query: $query, filter: $filter, limit: 3) { total totalExact hits { score entry { id category } } } }',
    ) as TypedDocumentNode<
      { searchMemory: { total: number; totalExact: boolean; hits: { entry: { category: string } }[] } },
      { query: string; filter: MemoryFilter }
    >;
    const since = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const seeded = (await user.data(bare, { query: 'fox tracks', filter: { category: 'bulk', since } }))
      .searchMemory;
    expect(seeded.hits.map((h) => h.entry.category)).toEqual(['bulk', 'bulk', 'bulk']);
    expect(seeded).toMatchObject({ totalExact: false });
    expect(seeded.total).toBeGreaterThanOrEqual(3);
    const none = (
      await user.data(bare, {
        query: 'fox tracks',
        filter: { category: 'none', metadata: { note: "it's" } },
      })
    ).searchMemory;
    expect(none.hits).toEqual([]);
    expect(none.totalExact).toBe(false);
  });

  test('a small owner gets an exact total', async () => {
    const small = await t.register('Small');
    await store(small, { content: 'Backups run nightly at two' });
    await store(small, { content: 'Nightly backups are kept for a week' });
    expect(await search(small, 'nightly backups')).toMatchObject({ total: 2, totalExact: true });
  });
});

describe('filters and recall', () => {
  let user: User;
  let agentId: string;
  let sessionId: string;
  beforeAll(async () => {
    user = await t.register('Filterer');
    agentId = (await createAgent(user, 'Librarian')).id;
    sessionId = (await user.data(StartSessionDocument, { input: {} })).startSession.id;
    await store(user, {
      content: 'Project apollo launches in spring',
      metadata: { project: 'apollo', v: 1 },
    });
    await store(user, {
      content: 'Project gemini launches in autumn',
      metadata: { project: 'gemini' },
      agentId,
    });
    await store(user, {
      content: 'Launches are reviewed weekly',
      tier: 'EPISODIC' as never,
      category: 'ops',
      sessionId,
    });
  });

  test.each([
    [{ tier: 'EPISODIC' }, ['Launches are reviewed weekly']],
    [{ category: 'ops' }, ['Launches are reviewed weekly']],
    [{ metadata: { project: 'apollo' } }, ['Project apollo launches in spring']],
    [{ agentId: 'AGENT' }, ['Project gemini launches in autumn']],
    [{ sessionId: 'SESSION' }, ['Launches are reviewed weekly']],
    [{ until: '2000-01-01T00:00:00Z' }, []],
  ])('search filter %j', async (filter, expected) => {
    const resolved = JSON.parse(
      JSON.stringify(filter).replace('AGENT', agentId).replace('SESSION', sessionId),
    );
    expect(contents(await search(user, 'launches', resolved)).sort()).toEqual(expected);
    const listed = await user.data(FilteredMemoriesDocument, { filter: resolved, first: 10 });
    expect(listed.memories.nodes.map((n) => n.content).sort()).toEqual(expected);
    expect(listed.memories.totalCount).toBe(expected.length);
  });

  test('recall answers the top few and records that they were recalled', async () => {
    const { recallMemory } = await user.data(RecallMemoriesDocument, { query: 'apollo', limit: 3 });
    expect(contents(recallMemory)).toEqual(['Project apollo launches in spring']);
    const [{ entry }] = recallMemory.hits;
    expect(entry.recallCount).toBe(1);
    expect(entry.lastRecalledAt).not.toBeNull();
    await user.data(RecallMemoriesDocument, { query: 'apollo', limit: 3 });
    expect((await search(user, 'apollo')).hits[0].entry.recallCount).toBe(2);
  });

  test('hostile queries answer a clear 400 or empty results, never an internal error', async () => {
    for (const query of ['', '   ', 'x'.repeat(10_240)]) {
      const response = await user.request(SearchMemoriesDocument, { query });
      expect(errorOf(response).code).toBe('BAD_USER_INPUT');
    }
    for (const query of [
      'the and of',
      "& | ! : * ( ) '",
      "'apollo':* & !",
      '"unclosed',
      '-',
      '!!!',
      'a <-> b',
      '((((',
    ]) {
      const response = await user.request(SearchMemoriesDocument, { query });
      expect(response.body.errors).toBeUndefined();
      if (query === 'the and of' || query === '!!!') expect(response.body.data?.searchMemory.total).toBe(0);
    }
    for (const limit of [0, 101]) {
      const response = await user.request(SearchMemoriesDocument, { query: 'apollo', limit });
      expect(errorOf(response).code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('owner isolation', () => {
  test("another account's entries never appear in search, recall, lists, counts or stats", async () => {
    const mine = await t.register('Mine');
    const secret = await store(stranger, {
      content: 'zebra crossing password is hunter2',
      category: 'secret',
    });
    await store(mine, { content: 'a zebra at the zoo', category: 'animals' });
    const found = await search(mine, 'zebra');
    expect(contents(found)).toEqual(['a zebra at the zoo']);
    expect(found.total).toBe(1);
    const { recallMemory } = await mine.data(RecallMemoriesDocument, { query: 'hunter2' });
    expect(recallMemory.total).toBe(0);
    const { memoryStats } = await mine.data(MyMemoryStatsDocument, {});
    expect(memoryStats.total).toBe(1);
    expect(memoryStats.byCategory).toEqual([{ key: 'animals', count: 1 }]);
    expect((await mine.data(FilteredMemoriesDocument, { first: 100 })).memories.totalCount).toBe(1);
    expect(errorOf(await mine.request(MemoryDocument, { id: secret.id })).code).toBe('NOT_FOUND');
    expect(errorOf(await mine.request(ForgetMemoryDocument, { id: secret.id })).code).toBe('NOT_FOUND');
    expect((await stranger.data(MemoryDocument, { id: secret.id })).memory.content).toContain('zebra');
  });

  test('delete is the owner’s, once; events of the owner’s entries reach the owner only', async () => {
    const owner = await t.register('Evented');
    const events = subscribe('graphql-ws', t.graphqlUrl, MyMemoryEventsDocument, {}, owner.credential);
    const others = subscribe('graphql-ws', t.graphqlUrl, MyMemoryEventsDocument, {}, stranger.credential);
    try {
      let stored: { id: string } | undefined;
      const first = await firstEventAfter(events, async () => {
        stored = await store(owner, { content: 'watched entry' });
      });
      expect(first.memoryEvents).toMatchObject({ kind: 'STORED', entry: { content: 'watched entry' } });
      await owner.data(ForgetMemoryDocument, { id: stored!.id });
      let next = await events.next();
      while (next.memoryEvents.kind !== 'DELETED') next = await events.next();
      expect(next.memoryEvents.entry.id).toBe(stored!.id);
      expect(errorOf(await owner.request(ForgetMemoryDocument, { id: stored!.id })).code).toBe('NOT_FOUND');
      await expect(others.next(500)).rejects.toThrow(/no graphql-ws event/);
    } finally {
      await Promise.all([events.close(), others.close()]);
    }
  });
});

describe('tiers filled by the platform', () => {
  const tierOf = (who: User, filter: MemoryFilter) =>
    who.data(FilteredMemoriesDocument, { filter, first: 100 }).then((d) => d.memories);

  test('a finished chat turn is an episodic entry and working memory; the session keeps its last 20', async () => {
    const agent = await createAgent(ada, 'Chatty');
    const sessionId = (await ada.data(StartSessionDocument, { input: { agentId: agent.id } })).startSession
      .id;
    await ada.data(ChatDocument, { input: { sessionId, content: 'What is the capital of Peru?' } });
    const [episode] = (await tierOf(ada, { tier: 'EPISODIC' as never, sessionId })).nodes;
    expect(episode).toMatchObject({
      content: `Q: What is the capital of Peru?\nA: ${ANSWER.join('')}`,
      source: 'chat',
      sessionId,
      agent: { id: agent.id },
    });
    expect(contents(await search(ada, 'capital peru'))).toContain(episode.content);

    for (let turn = 1; turn < 12; turn++)
      await ada.data(ChatDocument, { input: { sessionId, content: `Question number ${turn}` } });
    const working = await tierOf(ada, { tier: 'WORKING' as never, sessionId });
    expect(working.totalCount).toBe(20);
    // The oldest turn's two messages went first.
    expect(working.nodes.map((n) => n.content)).not.toContain('What is the capital of Peru?');
    expect(working.nodes[0]).toMatchObject({ content: ANSWER.join(''), category: 'assistant' });
    expect((await tierOf(ada, { tier: 'EPISODIC' as never, sessionId })).totalCount).toBe(12);

    await ada.data(CloseSessionDocument, { id: sessionId });
    expect((await tierOf(ada, { tier: 'WORKING' as never, sessionId })).totalCount).toBe(0);
    expect((await tierOf(ada, { tier: 'EPISODIC' as never, sessionId })).totalCount).toBe(12);
  });

  test('a turn reported twice is remembered once; only the sessions service may report', async () => {
    const memoryUrl = t.platform.subgraphs.find((s) => s.name === 'memory')!.url;
    const call = (identity: Parameters<typeof signIdentity>[0]) =>
      fetch(memoryUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [IDENTITY_HEADER]: signIdentity(identity, t.secrets.internal),
        },
        body: JSON.stringify({
          query: 'mutation ($i: ChatTurnMemoryInput!) { recordChatTurnMemory(input: $i) }',
          variables: {
            i: {
              turnId: 'turn_retry',
              ownerId: ada.id,
              sessionId: 'ses_x',
              question: 'q',
              answer: 'a',
              working: false,
            },
          },
        }),
      }).then((r) => r.json());
    expect(await call({ service: 'sessions' })).toEqual({ data: { recordChatTurnMemory: 1 } });
    expect(await call({ service: 'sessions' })).toEqual({ data: { recordChatTurnMemory: 0 } });
    const refused = await call({ service: 'tasks' });
    expect(refused.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('statistics', () => {
  test('figures of a seeded set', async () => {
    const user = await t.register('Counted');
    const seeded = [
      { content: 'Paris is in France', category: 'geo', tier: 'SEMANTIC' },
      { content: 'Lima is in Peru', category: 'geo', tier: 'SEMANTIC' },
      { content: 'Prefers tea', category: 'prefs', tier: 'SEMANTIC' },
      { content: 'Asked about Lima', category: 'conversation', tier: 'EPISODIC' },
      { content: 'Ünïcode bytes count', category: 'prefs', tier: 'WORKING' },
    ];
    const stored = [];
    for (const entry of seeded) stored.push(await store(user, entry as StoreMemoryInput));
    await user.data(RecallMemoriesDocument, { query: 'Lima Peru', limit: 1 });
    const { memoryStats } = await user.data(MyMemoryStatsDocument, {});
    expect(memoryStats).toEqual({
      total: 5,
      sizeBytes: seeded.reduce((sum, e) => sum + Buffer.byteLength(e.content) + Buffer.byteLength('{}'), 0),
      oldest: stored[0].createdAt,
      newest: stored[4].createdAt,
      recalled: 1,
      healthy: true,
      byTier: [
        { key: 'EPISODIC', count: 1 },
        { key: 'SEMANTIC', count: 3 },
        { key: 'WORKING', count: 1 },
      ],
      byCategory: [
        { key: 'geo', count: 2 },
        { key: 'prefs', count: 2 },
        { key: 'conversation', count: 1 },
      ],
      indexes: expect.arrayContaining([{ name: 'memory_entry_search_idx', healthy: true }]),
    });
    expect(memoryStats.indexes).toHaveLength(7);
  });
});

// Last: it stops the memory service.
test('a chat turn still answers when the memory service is down, and the miss is logged', async () => {
  await t.platform.subgraphs.find((s) => s.name === 'memory')!.close();
  const { chat } = await ada.data(ChatDocument, { input: { content: 'Still answered?' } });
  expect(chat.status).toBe('COMPLETE');
  expect(t.logs.some((line) => line.msg === 'chat turn not remembered')).toBe(true);
});
