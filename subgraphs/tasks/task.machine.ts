/**
 * The task lifecycle as data: states, transitions and the guards that refuse them. Pure (no
 * database, no GraphQL), so the rules can be read in one place and tested without a server.
 */

export enum TaskStatus {
  /** Created, waiting for its reward to be funded (escrow) before anyone may claim it. */
  FUNDING = 'FUNDING',
  OPEN = 'OPEN',
  /** Claimed by (assigned to) an agent that has not started yet. */
  ACCEPTED = 'ACCEPTED',
  IN_PROGRESS = 'IN_PROGRESS',
  /** Delivered: a result waits for the creator to confirm or dispute it. */
  PENDING_VALIDATION = 'PENDING_VALIDATION',
  COMPLETED = 'COMPLETED',
  DISPUTED = 'DISPUTED',
  RESOLVED = 'RESOLVED',
  CANCELLED = 'CANCELLED',
  FAILED = 'FAILED',
  EXPIRED = 'EXPIRED',
}

/** How an admin settles a dispute; decides where the escrowed reward goes once the wallet holds it. */
export enum TaskResolution {
  RELEASE_TO_AGENT = 'RELEASE_TO_AGENT',
  REFUND_CREATOR = 'REFUND_CREATOR',
  /** The agent gets `resolutionAgentShareBps` of the reward (less the fee), the creator the rest. */
  SPLIT = 'SPLIT',
}

/** Where a task's locked reward is in the wallet (see task.rewards.ts). */
export enum RewardSettlement {
  NONE = 'NONE',
  HELD = 'HELD',
  RELEASED = 'RELEASED',
  REFUNDED = 'REFUNDED',
  /** Split by a resolution: the agent's share paid (less the fee), the rest back to the creator. */
  SPLIT = 'SPLIT',
}

export enum TaskTransition {
  /** Not in the table: creation makes a task rather than moving one. */
  CREATE = 'CREATE',
  FUND = 'FUND',
  CLAIM = 'CLAIM',
  START = 'START',
  REPORT_PROGRESS = 'REPORT_PROGRESS',
  DELIVER = 'DELIVER',
  CONFIRM = 'CONFIRM',
  DISPUTE = 'DISPUTE',
  RESOLVE = 'RESOLVE',
  CANCEL = 'CANCEL',
  FAIL = 'FAIL',
  EXPIRE = 'EXPIRE',
}

export type Move = Exclude<TaskTransition, TaskTransition.CREATE>;

export type StampField =
  | 'fundedAt'
  | 'acceptedAt'
  | 'startedAt'
  | 'deliveredAt'
  | 'confirmedAt'
  | 'disputedAt'
  | 'resolvedAt'
  | 'cancelledAt'
  | 'failedAt'
  | 'expiredAt';

/** What the guards look at besides the state; `now` is passed in so time is never read here. */
export interface Facts {
  now: Date;
  deadline: Date | null;
  deliveredAt: Date | null;
  /** Ids of the task's dependencies that are not COMPLETED. */
  unfinishedDependencies: readonly string[];
  /** The task's approval request, when it was created needing one. */
  approval?: { id: string; state: 'PENDING' | 'APPROVED' | 'DENIED' } | null;
}

export const DISPUTE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Each guard answers why a transition is refused, or null when it may go ahead. */
export const GUARDS = {
  beforeDeadline: ({ now, deadline }: Facts) =>
    deadline && now >= deadline ? `its deadline passed at ${deadline.toISOString()}` : null,
  deadlinePassed: ({ now, deadline }: Facts) =>
    !deadline || now < deadline ? 'its deadline has not passed' : null,
  dependenciesDone: ({ unfinishedDependencies }: Facts) =>
    unfinishedDependencies.length
      ? `it waits for unfinished dependencies: ${unfinishedDependencies.join(', ')}`
      : null,
  approved: ({ approval }: Facts) =>
    !approval || approval.state === 'APPROVED'
      ? null
      : approval.state === 'PENDING'
        ? `it waits for approval request ${approval.id}`
        : `its approval request ${approval.id} was denied`,
  withinDisputeWindow: ({ now, deliveredAt }: Facts) =>
    deliveredAt && now.getTime() - deliveredAt.getTime() > DISPUTE_WINDOW_MS
      ? `the 24 h dispute window closed at ${new Date(deliveredAt.getTime() + DISPUTE_WINDOW_MS).toISOString()}`
      : null,
} satisfies Record<string, (facts: Facts) => string | null>;

export type GuardName = keyof typeof GUARDS;

/** Who may ask for a transition: the task's creator (or an admin), only an admin, or only the platform. */
export type Actor = 'creator' | 'admin' | 'system';

export interface Rule {
  from: readonly TaskStatus[];
  to: TaskStatus;
  actor: Actor;
  /** The timestamp column the transition sets. */
  stamp?: StampField;
  guards?: readonly GuardName[];
}

const { FUNDING, OPEN, ACCEPTED, IN_PROGRESS, PENDING_VALIDATION, COMPLETED, DISPUTED } = TaskStatus;
const WORKING = [ACCEPTED, IN_PROGRESS] as const;

export const TRANSITIONS: Readonly<Record<Move, Rule>> = {
  FUND: { from: [FUNDING], to: OPEN, actor: 'admin', stamp: 'fundedAt' },
  CLAIM: {
    from: [OPEN],
    to: ACCEPTED,
    actor: 'creator',
    stamp: 'acceptedAt',
    guards: ['approved', 'dependenciesDone', 'beforeDeadline'],
  },
  START: {
    from: [ACCEPTED],
    to: IN_PROGRESS,
    actor: 'creator',
    stamp: 'startedAt',
    guards: ['beforeDeadline'],
  },
  REPORT_PROGRESS: { from: [IN_PROGRESS], to: IN_PROGRESS, actor: 'creator', guards: ['beforeDeadline'] },
  // From ACCEPTED too: Hermes clients claim and complete without a separate start.
  DELIVER: {
    from: WORKING,
    to: PENDING_VALIDATION,
    actor: 'creator',
    stamp: 'deliveredAt',
    guards: ['beforeDeadline'],
  },
  CONFIRM: { from: [PENDING_VALIDATION], to: COMPLETED, actor: 'creator', stamp: 'confirmedAt' },
  DISPUTE: {
    from: [PENDING_VALIDATION],
    to: DISPUTED,
    actor: 'creator',
    stamp: 'disputedAt',
    guards: ['withinDisputeWindow'],
  },
  RESOLVE: { from: [DISPUTED], to: TaskStatus.RESOLVED, actor: 'admin', stamp: 'resolvedAt' },
  CANCEL: { from: [FUNDING, OPEN], to: TaskStatus.CANCELLED, actor: 'creator', stamp: 'cancelledAt' },
  FAIL: { from: WORKING, to: TaskStatus.FAILED, actor: 'creator', stamp: 'failedAt' },
  EXPIRE: {
    from: [FUNDING, OPEN, ...WORKING],
    to: TaskStatus.EXPIRED,
    actor: 'system',
    stamp: 'expiredAt',
    guards: ['deadlinePassed'],
  },
};

/** States in which a task's dependencies may still change: before anyone claims it. */
export const EDITABLE_GRAPH_STATES: readonly TaskStatus[] = [FUNDING, OPEN];

export type Decision = { ok: true; to: TaskStatus } | { ok: false; reason: string };

const transitionName = (move: Move) => move.toLowerCase().replace('_', ' ');

/** The next state of `status` under `move`, or why the move is refused. */
export function transition(status: TaskStatus, move: Move, facts: Facts): Decision {
  const rule = TRANSITIONS[move];
  if (!rule.from.includes(status))
    return { ok: false, reason: `${transitionName(move)} needs ${rule.from.join(' or ')}` };
  for (const guard of rule.guards ?? []) {
    const reason = GUARDS[guard](facts);
    if (reason) return { ok: false, reason };
  }
  return { ok: true, to: rule.to };
}

/** The statuses of the Hermes task API (reference 001). */
export type HermesStatus = 'Open' | 'InProgress' | 'PendingValidation' | 'Completed' | 'Failed' | 'Cancelled';

const HERMES: Record<TaskStatus, HermesStatus> = {
  // Hermes has no funding step: its escrow is separate from the task, which is open meanwhile.
  FUNDING: 'Open',
  OPEN: 'Open',
  ACCEPTED: 'InProgress',
  IN_PROGRESS: 'InProgress',
  PENDING_VALIDATION: 'PendingValidation',
  // A disputed result is still waiting to be validated.
  DISPUTED: 'PendingValidation',
  COMPLETED: 'Completed',
  RESOLVED: 'Completed',
  CANCELLED: 'Cancelled',
  FAILED: 'Failed',
  EXPIRED: 'Failed',
};

/** A resolved dispute is Completed when the agent is paid (or paid a share) and Failed when the creator is refunded. */
export function toHermesStatus(status: TaskStatus, resolution?: TaskResolution | null): HermesStatus {
  if (status === TaskStatus.RESOLVED && resolution === TaskResolution.REFUND_CREATOR) return 'Failed';
  return HERMES[status];
}

/** The statuses of the hermesx402 task API (reference 004). */
export type X402Status =
  'created' | 'accepted' | 'working' | 'delivered' | 'confirmed' | 'disputed' | 'cancelled' | 'resolved';

const X402: Record<TaskStatus, X402Status> = {
  FUNDING: 'created',
  OPEN: 'created',
  ACCEPTED: 'accepted',
  IN_PROGRESS: 'working',
  PENDING_VALIDATION: 'delivered',
  COMPLETED: 'confirmed',
  DISPUTED: 'disputed',
  RESOLVED: 'resolved',
  CANCELLED: 'cancelled',
  // x402 knows no failure or expiry: the hirer is refunded in full, as on a cancel.
  FAILED: 'cancelled',
  EXPIRED: 'cancelled',
};

export const toX402Status = (status: TaskStatus): X402Status => X402[status];
