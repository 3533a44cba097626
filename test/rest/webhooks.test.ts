/** Contract of the webhook rows: x402 (004) POST /webhooks, hermes (002) dead letters and replay. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createTask } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

// The subgraphs read these from this process's environment; the receiver listens on 127.0.0.1.
process.env.WEBHOOK_ALLOWLIST = '127.0.0.1';
process.env.WEBHOOK_RETRY_SCHEDULE = '0,20';

let t: TestPlatform;
let user: User;
let api: Rest;
let receiver: Server;
let receiverUrl: string;
let answer = 500;
let secret = '';
const verifiedIds: string[] = [];

beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('Hooks');
  api = rest(t, user.credential);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      new Webhook(secret).verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>);
      verifiedIds.push(req.headers['webhook-id'] as string);
      res.statusCode = answer;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await t.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

async function until<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('x402 POST /webhooks registers: 201 with the secret, once; bad input is 400 {error, code}', async () => {
  const response = await api('POST', '/x402/v1/webhooks', {
    body: { url: receiverUrl, events: ['task.created', 'task.delivered'] },
  });
  expect(response.status).toBe(201);
  expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');
  expect(response.body).toEqual({
    id: expect.stringMatching(/^whk_/),
    url: receiverUrl,
    events: ['task.created', 'task.delivered'],
    status: 'active',
    secret: expect.stringMatching(/^whsec_/),
    created_at: ISO,
  });
  secret = response.body.secret;

  const refused = await api('POST', '/x402/v1/webhooks', {
    body: { url: 'http://169.254.169.254/latest', events: ['task.created'] },
  });
  expect(refused.status).toBe(400);
  expect(refused.body).toEqual({
    error: expect.stringMatching(/169\.254\.169\.254/),
    code: 'INVALID_PARAMETERS',
  });
  expect((await api('POST', '/x402/v1/webhooks', { body: { url: receiverUrl } })).status).toBe(400);
  expect(
    (await rest(t)('POST', '/x402/v1/webhooks', { body: { url: receiverUrl, events: ['*'] } })).status,
  ).toBe(401);
});

test('hermes GET /api/channels/dead-letter lists failed deliveries; replay delivers with the same id', async () => {
  const task = await createTask(user);
  const dead = await until(async () => {
    const response = await api('GET', '/runtime/api/channels/dead-letter');
    // The page and its count are two statements: a delivery failing between them shows in one only.
    return response.body.total === 1 && response.body.items.length === 1 ? response : undefined;
  });
  expect(dead.status).toBe(200);
  const [letter] = dead.body.items;
  expect(dead.body).toMatchObject({ count: 1, dead_letters: [letter] });
  expect(letter).toEqual({
    id: expect.stringMatching(/^msg_/),
    channel: 'webhook',
    recipient_id: letter.endpoint_id,
    content: expect.any(String),
    idempotency_key: letter.id,
    last_error: 'the endpoint answered 500',
    endpoint_id: expect.stringMatching(/^whk_/),
    event: 'task.created',
    payload: {
      type: 'task.created',
      timestamp: ISO,
      data: { task: expect.objectContaining({ id: task.id }) },
    },
    status: 'failed',
    attempts: 2,
    last_status_code: 500,
    error: 'the endpoint answered 500',
    created_at: ISO,
    updated_at: ISO,
  });

  answer = 204;
  const replay = await api('POST', `/runtime/api/channels/dead-letter/${letter.id}/replay`);
  expect(replay.status).toBe(200);
  expect(replay.body).toMatchObject({
    ok: true,
    replayed: true,
    id: letter.id,
    status: 'pending',
    attempts: 0,
  });
  await until(async () => (verifiedIds.length === 3 ? true : undefined));
  expect(verifiedIds).toEqual([letter.id, letter.id, letter.id]);
  await until(async () =>
    (await api('GET', '/runtime/api/channels/dead-letter')).body.total === 0 ? true : undefined,
  );

  const again = await api('POST', `/runtime/api/channels/dead-letter/${letter.id}/replay`);
  expect(again.status).toBe(409);
  expect(again.body).toEqual({ error: expect.stringContaining('only FAILED deliveries') });
  const missing = await api(
    'POST',
    '/runtime/api/channels/dead-letter/msg_01jzzzzzzzzzzzzzzzzzzzzzzz/replay',
  );
  expect(missing.status).toBe(404);
});
