import { parseDuration } from '../subgraphs/tasks/task.input';
import {
  DISPUTE_WINDOW_MS,
  TaskResolution,
  TaskStatus,
  TaskTransition,
  toHermesStatus,
  toX402Status,
  transition,
  TRANSITIONS,
  type Facts,
} from '../subgraphs/tasks/task.machine';

const facts = (overrides: Partial<Facts> = {}): Facts => ({
  now: new Date('2025-02-26T06:00:00Z'),
  deadline: null,
  deliveredAt: null,
  unfinishedDependencies: [],
  ...overrides,
});

test('every status of both references is shown for some state of ours', () => {
  const states = Object.values(TaskStatus);
  expect(new Set(states.map((s) => toHermesStatus(s)))).toEqual(
    new Set(['Open', 'InProgress', 'PendingValidation', 'Completed', 'Failed', 'Cancelled']),
  );
  expect(new Set(states.map(toX402Status))).toEqual(
    new Set([
      'created',
      'accepted',
      'working',
      'delivered',
      'confirmed',
      'disputed',
      'cancelled',
      'resolved',
    ]),
  );
  expect(toHermesStatus(TaskStatus.RESOLVED, TaskResolution.RELEASE_TO_AGENT)).toBe('Completed');
  expect(toHermesStatus(TaskStatus.RESOLVED, TaskResolution.REFUND_CREATOR)).toBe('Failed');
});

test('every state is reachable from FUNDING or OPEN, and the terminal ones lead nowhere', () => {
  const reached = new Set<TaskStatus>([TaskStatus.FUNDING, TaskStatus.OPEN]);
  for (let size = 0; size !== reached.size;) {
    size = reached.size;
    for (const rule of Object.values(TRANSITIONS))
      if (rule.from.some((s) => reached.has(s))) reached.add(rule.to);
  }
  expect(reached).toEqual(new Set(Object.values(TaskStatus)));
  const terminal = [TaskStatus.COMPLETED, TaskStatus.RESOLVED, TaskStatus.CANCELLED, TaskStatus.FAILED];
  for (const rule of Object.values(TRANSITIONS)) {
    for (const state of [...terminal, TaskStatus.EXPIRED]) expect(rule.from).not.toContain(state);
  }
});

test('the dispute window is 24 h after delivery, to the millisecond', () => {
  const deliveredAt = new Date('2025-02-25T06:00:00Z');
  const at = (ms: number) => facts({ deliveredAt, now: new Date(deliveredAt.getTime() + ms) });
  expect(transition(TaskStatus.PENDING_VALIDATION, TaskTransition.DISPUTE, at(DISPUTE_WINDOW_MS))).toEqual({
    ok: true,
    to: TaskStatus.DISPUTED,
  });
  expect(
    transition(TaskStatus.PENDING_VALIDATION, TaskTransition.DISPUTE, at(DISPUTE_WINDOW_MS + 1)),
  ).toEqual({
    ok: false,
    reason: 'the 24 h dispute window closed at 2025-02-26T06:00:00.000Z',
  });
});

test('a deadline refuses work at the deadline and allows expiry from then on', () => {
  const deadline = new Date('2025-02-26T06:00:00Z');
  expect(transition(TaskStatus.OPEN, TaskTransition.CLAIM, facts({ deadline }))).toEqual({
    ok: false,
    reason: 'its deadline passed at 2025-02-26T06:00:00.000Z',
  });
  expect(transition(TaskStatus.OPEN, TaskTransition.EXPIRE, facts({ deadline }))).toEqual({
    ok: true,
    to: TaskStatus.EXPIRED,
  });
  expect(transition(TaskStatus.OPEN, TaskTransition.EXPIRE, facts()).ok).toBe(false);
  expect(transition(TaskStatus.PENDING_VALIDATION, TaskTransition.EXPIRE, facts({ deadline }))).toEqual({
    ok: false,
    reason: 'expire needs FUNDING or OPEN or ACCEPTED or IN_PROGRESS',
  });
});

test('durations: days, hours, minutes, seconds, in that order', () => {
  expect(parseDuration('2h')).toBe(7_200_000);
  expect(parseDuration('30m')).toBe(1_800_000);
  expect(parseDuration('1d')).toBe(86_400_000);
  expect(parseDuration('1h30m')).toBe(5_400_000);
  for (const bad of ['', 'soon', '30m2h', '2 h', '-1h', '1.5h']) expect(parseDuration(bad)).toBeNull();
});
