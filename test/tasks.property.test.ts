import fc from 'fast-check';
import { expireOverdueTasks } from '../subgraphs/tasks';
import {
  TaskResolution as Resolution,
  TaskStatus as Status,
  toHermesStatus,
  toX402Status,
} from '../subgraphs/tasks/task.machine';
import {
  CancelTaskDocument,
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateTaskInFullDocument,
  DeliverTaskDocument,
  DisputeTaskDocument,
  FailTaskDocument,
  FundTaskDocument,
  ReportTaskProgressDocument,
  ResolveTaskDocument,
  StartTaskDocument,
  TaskDetailsDocument,
  type TaskResolution,
  type TaskStatus,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { errorOf, registerAdmin, sql } from './tasks.support';

/**
 * The model: which attempt moves which state where, written down independently of
 * task.machine.ts. A missing entry means the API must refuse with CONFLICT naming the state.
 */
const MODEL = {
  fund: { FUNDING: 'OPEN' },
  claim: { OPEN: 'ACCEPTED' },
  start: { ACCEPTED: 'IN_PROGRESS' },
  progress: { IN_PROGRESS: 'IN_PROGRESS' },
  deliver: { ACCEPTED: 'PENDING_VALIDATION', IN_PROGRESS: 'PENDING_VALIDATION' },
  confirm: { PENDING_VALIDATION: 'COMPLETED' },
  dispute: { PENDING_VALIDATION: 'DISPUTED' },
  resolve: { DISPUTED: 'RESOLVED' },
  cancel: { FUNDING: 'CANCELLED', OPEN: 'CANCELLED' },
  fail: { ACCEPTED: 'FAILED', IN_PROGRESS: 'FAILED' },
} satisfies Record<string, Partial<Record<TaskStatus, TaskStatus>>>;
const EXPIRABLE: TaskStatus[] = ['FUNDING', 'OPEN', 'ACCEPTED', 'IN_PROGRESS'];

type Attempt = keyof typeof MODEL;
const ATTEMPTS = Object.keys(MODEL) as Attempt[];

/**
 * An attempt is picked when the step runs: mostly one the model allows from the current state (so
 * sequences get deep into the lifecycle), otherwise any, which is mostly a refusal. Besides
 * attempts: a day passes since delivery, or the deadline passes and the expiry job runs.
 */
type Step =
  | { kind: 'attempt'; allowedOnly: boolean; pick: number; outcome: TaskResolution }
  | { kind: 'dayPasses' }
  | { kind: 'deadlinePasses' };

interface ModelTask {
  status: TaskStatus;
  disputeWindowOpen: boolean;
  resolution: TaskResolution | null;
}

let t: TestPlatform;
let creator: User;
let admin: Client;
let agentId: string;
beforeAll(async () => {
  t = await startTestPlatform();
  creator = await t.register('Creator');
  admin = await registerAdmin(t);
  agentId = (await createAgent(await t.register('Owner'), 'Worker')).id;
});
afterAll(() => t.close());

const nextStatus = (attempt: Attempt, model: ModelTask): TaskStatus | undefined =>
  attempt === 'dispute' && !model.disputeWindowOpen
    ? undefined
    : (MODEL[attempt] as Partial<Record<TaskStatus, TaskStatus>>)[model.status];

/** Abandoning the task, and progress reports (which stay put), are allowed but less likely. */
const weightOf = (attempt: Attempt) => (['cancel', 'fail', 'progress'].includes(attempt) ? 1 : 4);

function choose({ allowedOnly, pick }: { allowedOnly: boolean; pick: number }, model: ModelTask): Attempt {
  const allowed = ATTEMPTS.filter((attempt) => nextStatus(attempt, model)).flatMap((attempt) =>
    Array<Attempt>(weightOf(attempt)).fill(attempt),
  );
  const from = allowedOnly && allowed.length ? allowed : ATTEMPTS;
  return from[pick % from.length];
}

/** Each attempt as the API call that makes it, by the caller allowed to make it. */
function call(attempt: Attempt, outcome: TaskResolution, id: string) {
  switch (attempt) {
    case 'fund':
      return admin.request(FundTaskDocument, { id });
    case 'claim':
      return creator.request(ClaimTaskDocument, { id, agentId });
    case 'start':
      return creator.request(StartTaskDocument, { id });
    case 'progress':
      return creator.request(ReportTaskProgressDocument, { id, progress: 50 });
    case 'deliver':
      return creator.request(DeliverTaskDocument, { id, input: { result: 'done', summary: 'all of it' } });
    case 'confirm':
      return creator.request(ConfirmTaskDocument, { id, input: { rating: 4 } });
    case 'dispute':
      return creator.request(DisputeTaskDocument, { id, reason: 'not what I asked for' });
    case 'resolve':
      return admin.request(ResolveTaskDocument, { id, outcome });
    case 'cancel':
      return creator.request(CancelTaskDocument, { id });
    case 'fail':
      return creator.request(FailTaskDocument, { id, reason: 'gave up' });
  }
}

async function perform(step: Step, id: string, model: ModelTask): Promise<void> {
  if (step.kind === 'dayPasses') {
    await sql(
      t,
      `update "tasks"."task" set "delivered_at" = "delivered_at" - interval '25 hours' where "id" = $1`,
      [id],
    );
    model.disputeWindowOpen = false;
    return;
  }
  if (step.kind === 'deadlinePasses') {
    await sql(t, `update "tasks"."task" set "deadline" = now() - interval '1 second' where "id" = $1`, [id]);
    const tasks = t.platform.subgraphs.find((s) => s.name === 'tasks')!;
    await expireOverdueTasks({ em: tasks.orm.em.fork(), pubsub: t.platform.pubsub, log: t.log });
    if (EXPIRABLE.includes(model.status)) model.status = 'EXPIRED';
    return;
  }
  const attempt = choose(step, model);
  const next = nextStatus(attempt, model);
  const response = await call(attempt, step.outcome, id);
  if (next) {
    expect(response.body.errors).toBeUndefined();
    model.status = next;
    if (attempt === 'deliver') model.disputeWindowOpen = true;
    if (attempt === 'resolve') model.resolution = step.outcome;
  } else {
    const error = errorOf(response);
    expect(error).toMatchObject({ code: 'CONFLICT', status: model.status });
    expect(error.message).toContain(` is ${model.status}`);
  }
}

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('attempt' as const),
      allowedOnly: fc.nat(4).map((n) => n > 0),
      pick: fc.nat(),
      outcome: fc.constantFrom<TaskResolution>('RELEASE_TO_AGENT', 'REFUND_CREATOR'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'dayPasses' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'deadlinePasses' as const }) },
);

test('random transition sequences through the API follow the model of the state machine', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.array(step, { minLength: 3, maxLength: 8 }),
      async (fundingRequired, steps) => {
        const { createTask } = await creator.data(CreateTaskInFullDocument, {
          input: { title: 'modelled', fundingRequired, deadlineIn: '1d' },
        });
        const model: ModelTask = {
          status: fundingRequired ? 'FUNDING' : 'OPEN',
          disputeWindowOpen: false,
          resolution: null,
        };
        expect(createTask.status).toBe(model.status);
        for (const next of steps) {
          await perform(next, createTask.id, model);
          const { task } = await creator.data(TaskDetailsDocument, { id: createTask.id });
          expect(task.status).toBe(model.status);
          const resolution = model.resolution && Resolution[model.resolution];
          expect(task.hermesStatus).toBe(toHermesStatus(Status[model.status], resolution));
          expect(task.x402Status).toBe(toX402Status(Status[model.status]));
        }
      },
    ),
    { numRuns: 50 },
  );
}, 180_000); // 50 sequences of up to 8 steps through the router
