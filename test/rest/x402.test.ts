/** Contract of the x402 dialect (reference 004) at its default mount /x402/v1. */
import { OpenLedgerAccountDocument } from '../generated/graphql';
import { createTask } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest, type RestResponse } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('X402');
  api = rest(t, user.credential);
});
afterAll(() => t.close());

const expectProtocolHeader = (response: RestResponse) =>
  expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');

const LISTING = {
  id: expect.stringMatching(/^agt_/),
  name: 'research-bot',
  description: 'Deep research on any topic',
  tags: ['research'],
  rate: 0.1,
  rating: null,
  tasks_completed: 0,
  status: 'online',
};

const WALLET = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

let agentId: string;

test('POST /agents registers an agent: 201 {id, name, status} and the rate the CLI prints', async () => {
  const response = await api('POST', '/x402/v1/agents', {
    body: {
      name: 'research-bot',
      description: 'Deep research on any topic',
      tags: ['research'],
      rate: 0.1,
      endpoint: 'https://bot.example.com/task',
      wallet: WALLET,
    },
  });
  expect(response.status).toBe(201);
  expectProtocolHeader(response);
  expect(response.body).toEqual({
    id: expect.stringMatching(/^agt_/),
    name: 'research-bot',
    status: 'active',
    rate: 0.1,
  });
  agentId = response.body.id;
});

test('GET /agents lists {agents: [...]} and honours limit; GET /agents/:id adds the detail fields', async () => {
  await api('POST', '/x402/v1/agents', { body: { name: 'second bot', rate: '0.25' } });
  const list = await api('GET', '/x402/v1/agents?limit=10');
  expect(list.status).toBe(200);
  expectProtocolHeader(list);
  expect(Object.keys(list.body)).toEqual(['agents']);
  expect(list.body.agents).toHaveLength(2);
  expect(list.body.agents[1]).toEqual({ ...LISTING, id: agentId });
  expect(list.body.agents[0].rate).toBe(0.25);
  expect((await api('GET', '/x402/v1/agents?limit=1')).body.agents).toHaveLength(1);

  const one = await api('GET', `/x402/v1/agents/${agentId}`);
  expect(one.status).toBe(200);
  expectProtocolHeader(one);
  expect(one.body).toEqual({
    ...LISTING,
    id: agentId,
    wallet: WALLET,
    max_concurrent: null,
    created_at: ISO,
  });
});

test('GET /tasks/:id answers the task status document', async () => {
  const task = await createTask(user, undefined, 'Summarize top AI papers');
  const { status, body, headers } = await api('GET', `/x402/v1/tasks/${task.id}`);
  expect(status).toBe(200);
  expect(headers.get('x-payment-protocol')).toBe('x402/1.0');
  expect(body).toEqual({
    task_id: task.id,
    agent_id: null,
    status: 'created',
    progress: 0,
    escrow: 5,
    deadline_remaining: null,
    created_at: ISO,
  });
});

test('POST /tasks/:id/accept accepts a created task; accepting again is 409 INVALID_STATUS', async () => {
  const task = await createTask(user, undefined, 'Accept me');
  const accepted = await api('POST', `/x402/v1/tasks/${task.id}/accept`, { body: { agent_id: agentId } });
  expect(accepted.status).toBe(200);
  expect(accepted.body).toMatchObject({ task_id: task.id, agent_id: agentId, status: 'accepted' });

  const again = await api('POST', `/x402/v1/tasks/${task.id}/accept`, { body: { agent_id: agentId } });
  expect(again.status).toBe(409);
  expectProtocolHeader(again);
  expect(again.body).toEqual({ error: expect.stringMatching(/OPEN/), code: 'INVALID_STATUS' });
});

test('GET /payments/balance answers {available, pending, total_earned} in SOL', async () => {
  const response = await api('GET', '/x402/v1/payments/balance');
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ available: 0, pending: 0, total_earned: 0 });
  await user.data(OpenLedgerAccountDocument, { asset: 'SOL' });
  expect((await api('GET', '/x402/v1/payments/balance')).body).toEqual({
    available: 0,
    pending: 0,
    total_earned: 0,
  });

  const anonymous = await rest(t)('GET', '/x402/v1/payments/balance');
  expect(anonymous.status).toBe(401);
  expectProtocolHeader(anonymous);
  expect(anonymous.body).toEqual({ error: expect.any(String), code: 'MISSING_API_KEY' });
});

test('GET /api/health answers status and the agent count without authentication', async () => {
  const response = await rest(t, 'agx_not_a_real_key')('GET', '/x402/v1/api/health');
  expect(response.status).toBe(200);
  expectProtocolHeader(response);
  expect(response.body).toEqual({ status: 'ok', agents: 2, tasks: null });
});

test('every response carries X-Payment-Protocol, 404s and 405s included', async () => {
  const missing = await rest(t)('GET', '/x402/v1/payments/refunds');
  expect(missing.status).toBe(404);
  expectProtocolHeader(missing);
  expect(missing.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });

  const wrongMethod = await rest(t)('DELETE', '/x402/v1/agents');
  expect(wrongMethod.status).toBe(405);
  expectProtocolHeader(wrongMethod);
  expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  expect(wrongMethod.body.code).toBe('METHOD_NOT_ALLOWED');
});
