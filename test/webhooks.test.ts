import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import {
  ClaimTaskDocument,
  CreateTaskDocument,
  CreateWebhookEndpointDocument,
  DeadLettersDocument,
  DeleteWebhookEndpointDocument,
  ReplayDeliveryDocument,
  StartTaskDocument,
  WebhookDeliveriesDocument,
  WebhookDeliveryDocument,
  WebhookEndpointDocument,
  WebhookEndpointsDocument,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type Client, type TestPlatform } from './support/platform';
import { errorOf } from './tasks.support';

/** A real marketplace agent: claims name one that exists. */
let AGENT: string;

// The subgraphs read these from the environment of this process; the receiver listens on 127.0.0.1.
process.env.WEBHOOK_ALLOWLIST = '127.0.0.1';
process.env.WEBHOOK_RETRY_SCHEDULE = '0,50,100,150';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What `Webhook.verify` made of it: the parsed payload, or the verification error. */
  verified:
    | { ok: true; payload: { type: string; timestamp: string; data: { task: { id: string } } } }
    | { ok: false };
}

/** A webhook receiver: answers each path's requests with its script of statuses (then its last). */
class Receiver {
  readonly received = new Map<string, Received[]>();
  private readonly secrets = new Map<string, string>();
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const body = Buffer.concat(chunks).toString();
        let verified: Received['verified'];
        try {
          const payload = new Webhook(this.secrets.get(path) ?? '').verify(
            body,
            req.headers as Record<string, string>,
          );
          verified = { ok: true, payload: payload as never };
        } catch {
          verified = { ok: false };
        }
        const log = this.received.get(path) ?? [];
        log.push({ headers: req.headers, body, verified });
        this.received.set(path, log);
        const script = this.scripts.get(path) ?? [200];
        res.statusCode = script[Math.min(log.length - 1, script.length - 1)]!;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, statuses: number[]) {
    this.scripts.set(path, statuses);
  }

  async register(client: Client, path: string, events: string[], statuses = [200]) {
    this.script(path, statuses);
    const { createWebhookEndpoint } = await client.data(CreateWebhookEndpointDocument, {
      input: { url: `${this.url}${path}`, events, description: path },
    });
    this.secrets.set(path, createWebhookEndpoint.secret);
    return createWebhookEndpoint;
  }

  of(path: string) {
    return this.received.get(path) ?? [];
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

let t: TestPlatform;
const receiver = new Receiver();
beforeAll(async () => {
  t = await startTestPlatform();
  AGENT = (await createAgent(await t.register('Agent owner'))).id;
  await receiver.start();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const deliveries = async (client: Client, endpointId: string) =>
  (await client.data(WebhookDeliveriesDocument, { endpointId })).webhookDeliveries.nodes;

const settled = (client: Client, endpointId: string, count: number) =>
  until(`${count} settled deliveries`, async () => {
    const nodes = await deliveries(client, endpointId);
    return nodes.length === count && nodes.every((d) => d.state !== 'PENDING') && nodes;
  });

async function newTask(client: Client, title = 'Summarise a paper') {
  return (await client.data(CreateTaskDocument, { input: { title } })).createTask.id;
}

test('each transition the endpoint asked for arrives in order, signed per Standard Webhooks', async () => {
  const user = await t.register();
  const { endpoint, secret } = await receiver.register(user, '/signed', ['task.created', 'task.accepted']);
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  expect(endpoint).toMatchObject({ status: 'ACTIVE', events: ['task.created', 'task.accepted'] });

  const taskId = await newTask(user);
  await user.data(ClaimTaskDocument, { id: taskId, agentId: AGENT });
  await user.data(StartTaskDocument, { id: taskId }); // task.started: not subscribed

  const log = await settled(user, endpoint.id, 2);
  const received = await until(
    'two requests',
    async () => receiver.of('/signed').length >= 2 && receiver.of('/signed'),
  );
  expect(received.map((r) => r.verified.ok && r.verified.payload.type)).toEqual([
    'task.created',
    'task.accepted',
  ]);
  for (const request of received) {
    expect(request.verified).toMatchObject({ ok: true, payload: { data: { task: { id: taskId } } } });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  }
  // The delivery log's id is the webhook-id; the log lists newest first.
  expect(received.map((r) => r.headers['webhook-id'])).toEqual(log.map((d) => d.id).reverse());
  expect(log.map((d) => [d.eventType, d.state, d.attempts, d.lastStatusCode])).toEqual([
    ['task.accepted', 'SUCCEEDED', 1, 200],
    ['task.created', 'SUCCEEDED', 1, 200],
  ]);
  // A body whose signature does not match is refused by the receiver's check.
  expect(() =>
    new Webhook(secret).verify(
      received[0]!.body.replace(taskId, 'task_forged'),
      received[0]!.headers as never,
    ),
  ).toThrow();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(receiver.of('/signed')).toHaveLength(2);
});

test('a receiver that fails first gets retries with the same webhook-id until it succeeds', async () => {
  const user = await t.register();
  const { endpoint } = await receiver.register(user, '/flaky', ['*'], [500, 503, 200]);
  await newTask(user);

  const [delivery] = await settled(user, endpoint.id, 1);
  expect(delivery).toMatchObject({ state: 'SUCCEEDED', attempts: 3, lastStatusCode: 200, lastError: null });
  const attempts = receiver.of('/flaky');
  expect(attempts).toHaveLength(3);
  expect(new Set(attempts.map((a) => a.headers['webhook-id']))).toEqual(new Set([delivery!.id]));
  expect(attempts.every((a) => a.verified.ok)).toBe(true);
});

test('410 Gone disables the endpoint, and nothing more is sent to it', async () => {
  const user = await t.register();
  const { endpoint } = await receiver.register(user, '/gone', ['task.created'], [410]);
  await newTask(user);

  const [delivery] = await settled(user, endpoint.id, 1);
  expect(delivery).toMatchObject({ state: 'FAILED', attempts: 1, lastStatusCode: 410 });
  const { webhookEndpoint } = await user.data(WebhookEndpointDocument, { id: endpoint.id });
  expect(webhookEndpoint.status).toBe('DISABLED');
  expect(webhookEndpoint.disabledReason).toMatch(/410/);

  await newTask(user, 'another');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await deliveries(user, endpoint.id)).toHaveLength(1);
  expect(receiver.of('/gone')).toHaveLength(1);
  expect(errorOf(await user.request(ReplayDeliveryDocument, { id: delivery!.id })).code).toBe('CONFLICT');
});

test('a delivery that fails every attempt is a dead letter until replayed, with the same webhook-id', async () => {
  const user = await t.register();
  const { endpoint } = await receiver.register(user, '/down', ['task.created'], [500]);
  await newTask(user);

  const [dead] = await settled(user, endpoint.id, 1);
  expect(dead).toMatchObject({ state: 'FAILED', attempts: 4, lastStatusCode: 500, nextAttemptAt: null });
  expect(receiver.of('/down')).toHaveLength(4);
  const { deadLetters } = await user.data(DeadLettersDocument, {});
  expect(deadLetters.nodes.map((d) => d.id)).toEqual([dead!.id]);

  receiver.script('/down', [200]);
  const { replayDelivery } = await user.data(ReplayDeliveryDocument, { id: dead!.id });
  expect(replayDelivery).toMatchObject({ id: dead!.id, state: 'PENDING', attempts: 0 });
  const [replayed] = await settled(user, endpoint.id, 1);
  expect(replayed).toMatchObject({ id: dead!.id, state: 'SUCCEEDED', attempts: 1, lastStatusCode: 200 });
  const attempts = receiver.of('/down');
  expect(attempts).toHaveLength(5);
  expect(attempts.at(-1)!.headers['webhook-id']).toBe(dead!.id);
  expect(attempts.at(-1)!.verified.ok).toBe(true);
  expect((await user.data(DeadLettersDocument, {})).deadLetters.totalCount).toBe(0);
  expect(errorOf(await user.request(ReplayDeliveryDocument, { id: dead!.id })).code).toBe('CONFLICT');
});

describe('SSRF', () => {
  const refusedUrls = [
    'http://127.0.0.1:9/hook',
    'http://127.1/hook',
    'http://localhost:8080/hook', // a name that resolves to loopback
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://192.168.1.1/hook',
    'http://100.64.0.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://0.0.0.0/hook',
    'http://[::1]:8080/hook',
    'http://[::]/hook',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:a9fe:a9fe]/hook',
    'http://[::127.0.0.1]/hook', // IPv4-compatible
    'http://[::ffff:0:127.0.0.1]/hook', // SIIT
    'http://[2002:7f00:1::]/hook', // 6to4 of loopback
    'http://[2002:a9fe:a9fe::1]/hook', // 6to4 of the metadata address
    'http://[64:ff9b::10.0.0.1]/hook', // NAT64
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', // Teredo
    'http://[fec0::1]/hook',
    'http://224.0.0.1/hook',
  ];

  afterEach(() => {
    process.env.WEBHOOK_ALLOWLIST = '127.0.0.1';
  });

  test('private, loopback and link-local destinations are refused as bad input', async () => {
    process.env.WEBHOOK_ALLOWLIST = '';
    const user = await t.register();
    for (const url of refusedUrls) {
      const error = errorOf(
        await user.request(CreateWebhookEndpointDocument, { input: { url, events: ['*'] } }),
      );
      expect([url, error.code]).toEqual([url, 'BAD_USER_INPUT']);
    }
    for (const url of ['ftp://example.com/hook', 'not a url', 'http://user:pass@example.com/hook']) {
      const error = errorOf(
        await user.request(CreateWebhookEndpointDocument, { input: { url, events: ['*'] } }),
      );
      expect([url, error.code]).toEqual([url, 'BAD_USER_INPUT']);
    }
    const unknownEvent = await user.request(CreateWebhookEndpointDocument, {
      input: { url: 'http://10.0.0.1/', events: ['task.exploded'] },
    });
    expect(errorOf(unknownEvent).code).toBe('BAD_USER_INPUT');
    expect((await user.data(WebhookEndpointsDocument, {})).webhookEndpoints.totalCount).toBe(0);
  });

  test('the allowlist admits hosts, addresses and networks it names', async () => {
    const user = await t.register();
    const create = (url: string) =>
      user.request(CreateWebhookEndpointDocument, { input: { url, events: ['*'] } });
    process.env.WEBHOOK_ALLOWLIST = '127.0.0.1, 10.0.0.0/8, [::1]';
    for (const url of ['http://127.0.0.1:9/hook', 'http://10.1.2.3/hook', 'http://[::1]:8080/hook'])
      expect([url, (await create(url)).body.errors]).toEqual([url, undefined]);
    expect(errorOf(await create('http://192.168.1.1/hook')).code).toBe('BAD_USER_INPUT');
    // An allowlisted address is allowed in its IPv4-mapped spelling, a tunnel to it is not.
    expect((await create('http://[::ffff:127.0.0.1]:9/hook')).body.errors).toBeUndefined();
    expect(errorOf(await create('http://[2002:7f00:1::]/hook')).code).toBe('BAD_USER_INPUT');
    process.env.WEBHOOK_ALLOWLIST = 'localhost';
    expect((await create('http://localhost:8080/hook')).body.errors).toBeUndefined();
  });

  test('the address is checked again at delivery time', async () => {
    const user = await t.register();
    const { endpoint } = await receiver.register(user, '/rechecked', ['task.created']);
    process.env.WEBHOOK_ALLOWLIST = '';
    await newTask(user);
    const [delivery] = await until('a refused attempt', async () => {
      const nodes = await deliveries(user, endpoint.id);
      return nodes[0]?.lastError ? nodes : undefined;
    });
    expect(delivery!.lastError).toMatch(/127\.0\.0\.1/);
    expect(receiver.of('/rechecked')).toHaveLength(0);
  });
});

test("another account's endpoints and deliveries are not found, and the secret is never shown again", async () => {
  const owner = await t.register();
  const stranger = await t.register('Mallory');
  const { endpoint, secret } = await receiver.register(owner, '/private', ['task.created']);
  await newTask(owner);
  const [delivery] = await settled(owner, endpoint.id, 1);

  for (const response of [
    await stranger.request(WebhookEndpointDocument, { id: endpoint.id }),
    await stranger.request(WebhookDeliveriesDocument, { endpointId: endpoint.id }),
    await stranger.request(WebhookDeliveryDocument, { id: delivery!.id }),
    await stranger.request(ReplayDeliveryDocument, { id: delivery!.id }),
    await stranger.request(DeleteWebhookEndpointDocument, { id: endpoint.id }),
  ])
    expect(errorOf(response).code).toBe('NOT_FOUND');
  expect((await stranger.data(WebhookEndpointsDocument, {})).webhookEndpoints.totalCount).toBe(0);
  expect((await stranger.data(WebhookDeliveriesDocument, {})).webhookDeliveries.totalCount).toBe(0);

  const views = await Promise.all([
    owner.request(WebhookEndpointDocument, { id: endpoint.id }),
    owner.request(WebhookEndpointsDocument, {}),
    owner.request(WebhookDeliveryDocument, { id: delivery!.id }),
  ]);
  for (const view of views) expect(JSON.stringify(view.body)).not.toContain(secret.slice('whsec_'.length));
  expect(JSON.stringify(t.logs)).not.toContain(secret.slice('whsec_'.length));

  expect((await owner.data(DeleteWebhookEndpointDocument, { id: endpoint.id })).deleteWebhookEndpoint).toBe(
    endpoint.id,
  );
  expect(errorOf(await owner.request(WebhookEndpointDocument, { id: endpoint.id })).code).toBe('NOT_FOUND');
});
