/**
 * Streaming routes end to end on task events: x402's task URL as Server-Sent Events and hermes'
 * /ws WebSocket, both through the router to the tasks subgraph's subscription and back.
 */
import WebSocket from 'ws';
import { ClaimTaskDocument } from '../generated/graphql';
import { createAgent, createTask } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { eventually, ISO, openEventStream, openSocket, refusedUpgrade, rest, type Rest } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
beforeAll(async () => {
  t = await startTestPlatform({ REST_SSE_HEARTBEAT_SECONDS: '1' });
  user = await t.register('Streamer');
  api = rest(t, user.credential);
});
afterAll(() => t.close());

/** Live task-event subscribers in the subgraphs' pub/sub: proof the upstream subscription is open. */
const upstreamSubscribers = () =>
  (t.platform.pubsub as unknown as { topics: Map<string, Set<unknown>> }).topics.get('tasks.events')?.size ??
  0;

describe('x402 GET /tasks/:id with Accept: text/event-stream', () => {
  test('streams the task’s lifecycle as x402 webhook events, then stops upstream when the client leaves', async () => {
    const agent = await createAgent(user, 'Streamed agent');
    const task = await createTask(user, undefined, 'Watch me');
    const stream = await openEventStream(`${t.url}/x402/v1/tasks/${task.id}`, {
      authorization: `Bearer ${user.credential}`,
    });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('x-payment-protocol')).toBe('x402/1.0');
      await eventually(upstreamSubscribers, (n) => n === 1);

      // Another task's change is not this stream's business.
      const other = await createTask(user, undefined, 'Not watched');
      await user.data(ClaimTaskDocument, { id: other.id, agentId: agent.id });
      await user.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });

      const event = await stream.next();
      expect(event.event).toBe('task.accepted');
      expect(JSON.parse(event.data)).toEqual({
        event: 'task.accepted',
        task_id: task.id,
        agent_id: agent.id,
        timestamp: expect.stringMatching(/^\d{4}-/),
      });
      const heartbeat = await stream.next(2500, true);
      expect(heartbeat.comment).toBe('heartbeat');
    } finally {
      await stream.close();
    }
    expect(await eventually(upstreamSubscribers, (n) => n === 0)).toBe(0);
  });

  test('a client that reconnects with Last-Event-ID receives what happened while it was away', async () => {
    const agent = await createAgent(user, 'Resumed agent');
    const task = await createTask(user, undefined, 'Resume me');
    const headers = { authorization: `Bearer ${user.credential}` };
    const first = await openEventStream(`${t.url}/x402/v1/tasks/${task.id}`, headers);
    let lastId: string | undefined;
    try {
      await eventually(upstreamSubscribers, (n) => n === 1);
      await user.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });
      const accepted = await first.next();
      expect(accepted.event).toBe('task.accepted');
      expect(accepted.id).toMatch(/^\d+$/);
      lastId = accepted.id;
    } finally {
      await first.close();
    }
    // While nobody listens, the agent delivers.
    await api('POST', `/x402/v1/tasks/${task.id}/deliver`, { body: { result: 'done' } });

    const second = await openEventStream(`${t.url}/x402/v1/tasks/${task.id}`, {
      ...headers,
      'last-event-id': lastId!,
    });
    try {
      const missed = await second.next();
      expect(missed.event).toBe('task.delivered');
      expect(Number(missed.id)).toBeGreaterThan(Number(lastId));
    } finally {
      await second.close();
    }
  });

  test('without a credential the stream is refused with a 401 in x402’s format, not opened', async () => {
    const task = await createTask(user);
    const response = await fetch(`${t.url}/x402/v1/tasks/${task.id}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect(await response.json()).toEqual({ error: expect.any(String), code: 'MISSING_API_KEY' });
  });

  test('the same URL without Accept: text/event-stream is the JSON status document', async () => {
    const task = await createTask(user);
    const { status, body } = await api('GET', `/x402/v1/tasks/${task.id}`);
    expect(status).toBe(200);
    expect(body.task_id).toBe(task.id);
  });
});

describe('runtime /ws', () => {
  // Ironclad's ws.rs handle_socket: the welcome frame, then `{"type":"ack"}` for each text frame.
  const CONNECTED = { type: 'connected', version: expect.any(String), timestamp: ISO };
  const wsUrl = (query = '') => `${t.url.replace(/^http/, 'ws')}/runtime/ws${query}`;

  test('sends {"type":"connected"} first, then each task change; closing it stops upstream', async () => {
    const socket = openSocket(wsUrl(), { authorization: `Bearer ${user.credential}` });
    try {
      await socket.opened;
      expect(await socket.next()).toEqual(CONNECTED);
      await eventually(upstreamSubscribers, (n) => n === 1);

      const created = await api('POST', '/api/tasks', { body: { title: 'Pushed', reward: '1.50' } });
      const first = await socket.next();
      expect(first).toEqual({
        type: 'task.created',
        task: expect.objectContaining({
          task_id: created.body.task_id,
          title: 'Pushed',
          status: 'Open',
          reward: 1.5,
        }),
        at: expect.stringMatching(/^\d{4}-/),
      });
      const agent = await createAgent(user, 'Pusher');
      await api('POST', `/api/tasks/${created.body.task_id}/claim`, { body: { agent_name: agent.id } });
      expect(await socket.next()).toMatchObject({
        type: 'task.updated',
        task: { task_id: created.body.task_id, status: 'InProgress', assigned_agent: agent.id },
      });
    } finally {
      await socket.close();
    }
    expect(await eventually(upstreamSubscribers, (n) => n === 0)).toBe(0);
  });

  test('query parameters filter the events: ?agent_id= sends only that agent’s tasks', async () => {
    const watched = await createAgent(user, 'Watched');
    const socket = openSocket(wsUrl(`?agent_id=${watched.id}`), {
      authorization: `Bearer ${user.credential}`,
    });
    try {
      expect(await socket.next()).toEqual(CONNECTED);
      await eventually(upstreamSubscribers, (n) => n === 1);
      await createTask(user, undefined, 'Unassigned');
      await createTask(user, watched.id, 'Assigned');
      expect(await socket.next()).toMatchObject({ type: 'task.created', task: { title: 'Assigned' } });
    } finally {
      await socket.close();
    }
  });

  test('another account’s tasks never reach the socket', async () => {
    const socket = openSocket(wsUrl(), { authorization: `Bearer ${user.credential}` });
    const stranger = await t.register('Stranger');
    try {
      expect(await socket.next()).toEqual(CONNECTED);
      await eventually(upstreamSubscribers, (n) => n === 1);
      await createTask(stranger, undefined, 'Private');
      await createTask(user, undefined, 'Mine');
      expect(await socket.next()).toMatchObject({ task: { title: 'Mine' } });
    } finally {
      await socket.close();
    }
  });

  test('without a credential the upgrade is refused with 401 in 002’s {"error"} format', async () => {
    const refused = await refusedUpgrade(wsUrl());
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  test('each text frame the client sends is acknowledged; one over 4 KiB closes the socket', async () => {
    const socket = openSocket(wsUrl(), { 'x-api-key': user.credential! });
    try {
      await socket.opened;
      expect(await socket.next()).toEqual(CONNECTED);
      socket.ws.send(JSON.stringify({ type: 'subscribe' }));
      socket.ws.send('anything');
      expect([await socket.next(), await socket.next()]).toEqual([{ type: 'ack' }, { type: 'ack' }]);
      socket.ws.send('x'.repeat(4097));
      expect(
        await eventually(
          () => socket.closed()?.code,
          (code) => code !== undefined,
        ),
      ).toBe(1009);
    } finally {
      await socket.close();
    }
  });

  test('a WebSocket to a hermes path that has none is a 404; /graphql still speaks graphql-ws', async () => {
    const refused = await refusedUpgrade(`${t.url.replace(/^http/, 'ws')}/api/tasks`);
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({ detail: expect.any(String) });
    const graphql = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve, reject) => graphql.once('open', resolve).once('error', reject));
    expect(graphql.protocol).toBe('graphql-transport-ws');
    graphql.terminate();
  });
});
