/** The task lifecycle and cron rows of the x402 (004) and hermes (001/002) dialects. */
import { CreateTaskDocument } from '../generated/graphql';
import { createAgent } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
let agentId: string;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('Lifecycle');
  api = rest(t, user.credential);
  agentId = (await createAgent(user, 'Worker')).id;
});
afterAll(() => t.close());

const newTask = async (deadlineIn?: string) =>
  (await user.data(CreateTaskDocument, { input: { title: 'Summarise', rewardMinor: '1500000', deadlineIn } }))
    .createTask.id;

describe('x402', () => {
  test('accept → deliver → confirm, each answering the task status; nothing escrowed yet', async () => {
    const id = await newTask('2h');
    const got = await api('GET', `/x402/v1/tasks/${id}`);
    expect(got.body).toEqual({
      task_id: id,
      agent_id: null,
      status: 'created',
      progress: 0,
      escrow: 1.5,
      deadline_remaining: expect.stringMatching(/^1h5\dm$/),
      created_at: ISO,
    });

    expect(
      (await api('POST', `/x402/v1/tasks/${id}/accept`, { body: { agent_id: agentId } })).body.status,
    ).toBe('accepted');
    const delivered = await api('POST', `/x402/v1/tasks/${id}/deliver`, {
      body: { result: 'https://storage.example.com/output.pdf', summary: '10 papers summarised' },
    });
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ status: 'delivered', progress: 100 });

    const confirmed = await api('POST', `/x402/v1/tasks/${id}/confirm`, {
      body: { rating: 5, comment: 'Excellent work' },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', released: 0, tx: null });
    expect(confirmed.headers.get('x-payment-protocol')).toBe('x402/1.0');
  });

  test('dispute within the window; cancel after acceptance is 409 INVALID_STATUS naming the state', async () => {
    const id = await newTask();
    await api('POST', `/x402/v1/tasks/${id}/accept`, { body: { agent_id: agentId } });
    const cancel = await api('POST', `/x402/v1/tasks/${id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body).toEqual({ error: expect.stringMatching(/ACCEPTED/), code: 'INVALID_STATUS' });

    await api('POST', `/x402/v1/tasks/${id}/deliver`, { body: { result: 'done' } });
    const disputed = await api('POST', `/x402/v1/tasks/${id}/dispute`, {
      body: { reason: "Result doesn't match task scope" },
    });
    expect(disputed.body.status).toBe('disputed');

    const rating = await api('POST', `/x402/v1/tasks/${await newTask()}/confirm`, { body: { rating: 9 } });
    expect(rating.status).toBe(400);
    expect(rating.body.code).toBe('INVALID_PARAMETERS');
  });

  test('cancel before acceptance', async () => {
    const cancelled = await api('POST', `/x402/v1/tasks/${await newTask()}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', refunded: 0, tx: null });
  });
});

describe('hermes', () => {
  test('claim → complete answers PendingValidation; DELETE cancels an open task', async () => {
    const id = await newTask();
    await api('POST', `/api/tasks/${id}/claim`, { body: { agent_name: agentId } });
    const completed = await api('POST', `/api/tasks/${id}/complete`, {
      body: { result: 'the answer', agent_name: agentId },
    });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ task_id: id, status: 'PendingValidation' });
    const again = await api('POST', `/api/tasks/${id}/complete`, { body: { result: 'again' } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: expect.stringMatching(/PENDING_VALIDATION/) });

    const open = await newTask();
    const deleted = await api('DELETE', `/api/tasks/${open}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ task_id: open, status: 'Cancelled' });
  });

  test('GET /api/tasks?agent= lists only the tasks assigned to that agent', async () => {
    const other = (await createAgent(user, 'Other worker')).id;
    const mine = await newTask();
    await api('POST', `/api/tasks/${mine}/claim`, { body: { agent_name: other } });
    const listed = await api('GET', `/api/tasks?agent=${other}`);
    expect(listed.status).toBe(200);
    expect(listed.body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([mine]);
    expect(listed.body.total).toBe(1);
  });

  // Shapes from Ironclad's cron handlers (crates/ironclad-server/src/api/routes/cron.rs).
  test('cron jobs: create answers {job_id}, list, get, runs, delete; a bad schedule is 400 in {error}', async () => {
    const created = await api('POST', '/runtime/api/cron/jobs', {
      body: { name: 'digest', schedule_kind: 'cron', schedule_expr: '0 9 * * 1-5', description: 'Daily' },
    });
    expect(created).toMatchObject({ status: 200, body: { job_id: expect.stringMatching(/^sch_/) } });
    const job = {
      id: created.body.job_id,
      name: 'digest',
      description: 'Daily',
      enabled: true,
      schedule_kind: 'cron',
      schedule_expr: '0 9 * * 1-5',
      agent_id: null,
      payload_json: JSON.stringify({ action: 'create_task', title: 'digest', description: 'Daily' }),
      last_run_at: null,
      last_status: null,
      consecutive_errors: 0,
      next_run_at: ISO,
      created_at: ISO,
    };
    const list = await api('GET', '/runtime/api/cron/jobs');
    expect(list.body).toEqual({ jobs: [job] });
    const id = job.id;
    expect((await api('GET', `/runtime/api/cron/jobs/${id}`)).body).toEqual(job);
    expect((await api('GET', '/runtime/api/cron/runs')).body).toEqual({ runs: [], total: 0 });
    // `schedule` is its alias of schedule_expr; a kind other than cron is refused.
    const every = await api('POST', '/runtime/api/cron/jobs', {
      body: { name: 'x', schedule_kind: 'every', schedule: '5m' },
    });
    expect(every).toMatchObject({ status: 400, body: { error: expect.stringMatching(/schedule_kind/) } });

    const bad = await api('POST', '/runtime/api/cron/jobs', {
      body: { name: 'x', schedule: 'every day', title: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.stringMatching(/schedule/) });

    expect((await api('DELETE', `/runtime/api/cron/jobs/${id}`)).body).toEqual({
      deleted: true,
      id,
    });
    const gone = await api('GET', `/runtime/api/cron/jobs/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ error: expect.any(String) });
  });
});
