/** Approvals: a task created with requiresApproval waits for its creator (or an admin) to decide. */
import {
  ApprovalsDocument,
  ApproveRequestDocument,
  ClaimTaskDocument,
  CreateTaskDocument,
  DenyRequestDocument,
  TaskDocument,
  TaskTransitionsDocument,
} from './generated/graphql';
import { rest } from './rest/support';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe } from './support/subscriptions';
import { errorOf, registerAdmin } from './tasks.support';

/** A real marketplace agent: claims name one that exists. */
let AGENT: string;

let t: TestPlatform;
let creator: User;
let stranger: User;
beforeAll(async () => {
  t = await startTestPlatform();
  AGENT = (await createAgent(await t.register('Agent owner'))).id;
  [creator, stranger] = [await t.register('Creator'), await t.register('Stranger')];
});
afterAll(() => t.close());

async function pendingTask(title = 'needs approval') {
  const { createTask } = await creator.data(CreateTaskDocument, { input: { title, requiresApproval: true } });
  const { approvals } = await creator.data(ApprovalsDocument, { state: 'PENDING' });
  const request = approvals.nodes.find((node) => node.taskId === createTask.id);
  expect(request).toMatchObject({
    id: expect.stringMatching(/^apr_/),
    requestedBy: creator.id,
    state: 'PENDING',
  });
  return { task: createTask, request: request! };
}

test('a pending request blocks the claim with CONFLICT naming it; approving unblocks it', async () => {
  const { task, request } = await pendingTask();
  const refused = errorOf(await creator.request(ClaimTaskDocument, { id: task.id, agentId: AGENT }));
  expect(refused).toMatchObject({ code: 'CONFLICT', status: 'OPEN', transition: 'CLAIM' });
  expect(refused.message).toContain(`waits for approval request ${request.id}`);

  const { approveRequest } = await creator.data(ApproveRequestDocument, { id: request.id });
  expect(approveRequest).toMatchObject({
    state: 'APPROVED',
    decidedBy: creator.id,
    decidedAt: expect.any(String),
  });
  const { claimTask } = await creator.data(ClaimTaskDocument, { id: task.id, agentId: AGENT });
  expect(claimTask.status).toBe('ACCEPTED');

  const again = errorOf(await creator.request(ApproveRequestDocument, { id: request.id }));
  expect(again).toMatchObject({ code: 'CONFLICT' });
});

test('denying cancels the task through the machine, with an event', async () => {
  const { task, request } = await pendingTask('to deny');
  const events = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    TaskTransitionsDocument,
    { taskId: task.id },
    creator.credential,
  );
  try {
    // The subscription is live once an event of this task arrives; an empty reason is refused meanwhile.
    const first = await firstEventAfter(events, async () => {
      const error = errorOf(await creator.request(DenyRequestDocument, { id: request.id, reason: ' ' }));
      expect(error.code).toBe('BAD_USER_INPUT');
      await creator.request(DenyRequestDocument, { id: request.id, reason: 'not this quarter' });
    });
    expect(first.taskEvents).toMatchObject({ transition: 'CANCEL', previousStatus: 'OPEN' });
    expect(first.taskEvents.task.status).toBe('CANCELLED');
  } finally {
    await events.close();
  }
  const { task: after } = await creator.data(TaskDocument, { id: task.id });
  expect(after.status).toBe('CANCELLED');
  const { approvals } = await creator.data(ApprovalsDocument, { state: 'DENIED' });
  expect(approvals.nodes.find((node) => node.id === request.id)).toMatchObject({
    reason: 'not this quarter',
  });
});

test("another account's request is NOT_FOUND and not listed; an admin sees and decides it", async () => {
  const { request } = await pendingTask('private');
  expect(errorOf(await stranger.request(ApproveRequestDocument, { id: request.id })).code).toBe('NOT_FOUND');
  const denied = await stranger.request(DenyRequestDocument, { id: request.id, reason: 'mine now' });
  expect(errorOf(denied).code).toBe('NOT_FOUND');
  const { approvals } = await stranger.data(ApprovalsDocument, {});
  expect(approvals.nodes.map((node) => node.id)).not.toContain(request.id);

  const admin = await registerAdmin(t);
  const { approvals: all } = await admin.data(ApprovalsDocument, { state: 'PENDING' });
  expect(all.nodes.map((node) => node.id)).toContain(request.id);
  const { approveRequest } = await admin.data(ApproveRequestDocument, { id: request.id });
  expect(approveRequest.state).toBe('APPROVED');
});

describe('hermes REST (002 approvals)', () => {
  test('GET /api/approvals lists pending requests; approve and deny answer the request', async () => {
    const api = rest(t, creator.credential);
    const first = await pendingTask('rest approve');
    const second = await pendingTask('rest deny');

    const list = await api('GET', '/runtime/api/approvals');
    expect(list.status).toBe(200);
    const body = list.body as {
      pending: unknown[];
      approvals: { id: string; status: string; task_id: string }[];
      total: number;
    };
    expect(body.approvals.map((a) => a.id)).toEqual(
      expect.arrayContaining([first.request.id, second.request.id]),
    );
    expect(body.approvals.every((a) => a.status === 'Pending')).toBe(true);
    expect(body.pending).toEqual(body.approvals);
    expect(body.total).toBe(body.approvals.length);

    const approved = await api('POST', `/runtime/api/approvals/${first.request.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: first.request.id, task_id: first.task.id, status: 'Approved' });
    expect(approved.body.approval).toMatchObject({ id: first.request.id, status: 'Approved' });

    const missingReason = await api('POST', `/runtime/api/approvals/${second.request.id}/deny`, { body: {} });
    expect(missingReason.status).toBe(400);
    expect(missingReason.body).toEqual({ error: expect.any(String) });

    const denied = await api('POST', `/runtime/api/approvals/${second.request.id}/deny`, {
      body: { reason: 'no' },
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ id: second.request.id, status: 'Denied', reason: 'no' });

    const twice = await api('POST', `/runtime/api/approvals/${second.request.id}/deny`, {
      body: { reason: 'no' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body).toEqual({ error: expect.stringContaining('DENIED') });

    const strangers = await rest(t, stranger.credential)(
      'POST',
      `/runtime/api/approvals/${first.request.id}/approve`,
    );
    expect(strangers.status).toBe(404);
    expect(strangers.body).toEqual({ error: expect.any(String) });

    const after = await api('GET', '/runtime/api/approvals');
    expect((after.body as typeof body).approvals.map((a) => a.id)).not.toContain(first.request.id);
  });
});
