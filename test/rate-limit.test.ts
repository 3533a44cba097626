import { MeDocument } from './generated/graphql';
import { loadConfig, projectVersion, SUBGRAPHS, type SubgraphName } from '../lib';
import { startRouter, type RunningRouter } from '../router/gateway';
import { startTestPlatform, type Client, type TestPlatform } from './support/platform';

/** Smaller than the default (60): a short burst fits in one window even on a busy machine. */
const LIMIT = 20;

/**
 * Fixed one-minute windows: a burst starts with at least 15 s of its window left, so it cannot
 * straddle two (CI once saw 40 requests take longer than 15 s; LIMIT keeps the burst shorter).
 */
async function atStartOfWindow(client: Client) {
  const { headers } = await client.request(MeDocument);
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (reset < 15) await new Promise((resolve) => setTimeout(resolve, reset * 1000 + 200));
}

describe('in memory', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  });
  afterAll(() => t.close());

  test('every response carries the limit headers; one past the limit is 429 with Retry-After', async () => {
    const user = await t.register(); // its own bucket: the limit is per caller
    await atStartOfWindow(user);
    const { headers: first } = await user.request(MeDocument);
    const used = LIMIT - Number(first.get('x-ratelimit-remaining'));
    expect(first.get('x-ratelimit-limit')).toBe(String(LIMIT));
    expect(first.get('ratelimit-policy')).toBe(`"per-caller";q=${LIMIT};w=60`);
    expect(first.get('ratelimit')).toMatch(new RegExp(`^"per-caller";r=${LIMIT - used};t=\\d+$`));

    for (let i = used + 1; i <= LIMIT; i++) {
      const { status, headers } = await user.request(MeDocument);
      expect(status).toBe(200);
      expect(Number(headers.get('x-ratelimit-remaining'))).toBe(LIMIT - i);
    }
    const over = await user.request(MeDocument);
    expect(over.status).toBe(429);
    expect(over.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('x-ratelimit-remaining')).toBe('0');

    // Another caller is not affected.
    const other = await t.register();
    expect((await other.request(MeDocument)).status).toBe(200);
  });
});

const redisDescribe = process.env.REDIS_URL ? describe : describe.skip;
redisDescribe('two routers sharing Redis', () => {
  let t: TestPlatform;
  let second: RunningRouter;
  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: process.env.REDIS_URL! };
    t = await startTestPlatform(env);
    const subgraphUrls = Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])) as Record<
      SubgraphName,
      string
    >;
    expect(Object.keys(subgraphUrls)).toHaveLength(SUBGRAPHS.length);
    second = await startRouter({
      config: loadConfig({ PORT: '0', ...env }),
      secrets: t.secrets,
      supergraph: t.supergraph,
      subgraphUrls,
      version: projectVersion(),
      log: t.log,
    });
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  test('share one count per caller', async () => {
    const user = await t.register();
    const viaSecond = async () =>
      fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.credential}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
    await atStartOfWindow(user);
    const { headers } = await user.request(MeDocument);
    let remaining = Number(headers.get('x-ratelimit-remaining'));
    for (let i = 0; remaining > 0; i++) {
      const response = i % 2 ? await viaSecond() : (await user.request(MeDocument)).headers;
      const next = Number(
        (response instanceof Response ? response.headers : response).get('x-ratelimit-remaining'),
      );
      expect(next).toBe(remaining - 1);
      remaining = next;
    }
    expect((await viaSecond()).status).toBe(429);
    expect((await user.request(MeDocument)).status).toBe(429);
  });
});
