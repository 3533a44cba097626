import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { badInput, BigIntScalar, checkMinorUnits, type SubgraphContext } from '../../lib';
import { requireAgentTakingWork } from './agent.work';
import { TaskResolution, TaskStatus } from './task.entity';

const MAX_CAPABILITIES = 32;
const MAX_WORKER_NAME = 200;
export const MAX_DEPENDENCIES = 50;
const MAX_DEADLINE_MS = 366 * 24 * 60 * 60 * 1000;

@InputType()
export class CreateTaskInput {
  @Field()
  title!: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => BigIntScalar, { defaultValue: 0n })
  rewardMinor: bigint = 0n;

  @Field({ defaultValue: 'USD' })
  asset: string = 'USD';

  @Field(() => BigIntScalar, { nullable: true, description: 'At least rewardMinor when given.' })
  budgetMinor?: bigint;

  @Field(() => ID, { nullable: true, description: 'Assign the task to this agent from the start.' })
  agentId?: string;

  @Field(() => String, {
    nullable: true,
    description: 'Or name the worker freely (up to 200 characters); a marketplace agent id is also linked.',
  })
  agentName?: string;

  @Field(() => [String], { nullable: true, description: `Up to ${MAX_CAPABILITIES} capability names.` })
  requiredCapabilities?: string[];

  @Field(() => Date, { nullable: true, description: 'When it expires unless delivered; in the future.' })
  deadline?: Date;

  @Field(() => String, {
    nullable: true,
    description: 'The deadline as a duration from now instead: `30m`, `2h`, `1d`, `1h30m`.',
  })
  deadlineIn?: string;

  @Field({
    defaultValue: false,
    description: 'Start in FUNDING, claimable only once the reward is funded (fundTask).',
  })
  fundingRequired: boolean = false;

  @Field({
    defaultValue: false,
    description: 'Claimable only by an account with a verified gaze attestation (attestationStatus).',
  })
  gazeRequired: boolean = false;

  @Field({
    defaultValue: false,
    description: 'Create a PENDING approval request with it; nobody may claim it until it is approved.',
  })
  requiresApproval: boolean = false;

  @Field(() => ID, { nullable: true, description: 'One of your tasks this one is a subtask of.' })
  parentTaskId?: string;

  @Field(() => [ID], {
    nullable: true,
    description: `Up to ${MAX_DEPENDENCIES} of your tasks that must be COMPLETED before this one can be claimed.`,
  })
  dependsOn?: string[];
}

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** `1d`, `2h`, `30m`, `45s` or a combination in that order (`1h30m`), in milliseconds. */
export function parseDuration(text: string): number | null {
  const match = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/.exec(text.trim());
  if (!match || text.trim() === '') return null;
  return ['d', 'h', 'm', 's'].reduce((ms, unit, i) => ms + Number(match[i + 1] ?? 0) * UNIT_MS[unit], 0);
}

function text(value: string | undefined | null, field: string, max: number, required = false): string | null {
  const trimmed = value?.trim() ?? '';
  if (required && trimmed.length === 0) throw badInput(`${field} must not be empty`, { field });
  if (trimmed.length > max) throw badInput(`${field} must be at most ${max} characters`, { field });
  return trimmed.length ? trimmed : null;
}

function deadlineOf(input: CreateTaskInput, now: Date): Date | null {
  if (input.deadline && input.deadlineIn)
    throw badInput('give deadline or deadlineIn, not both', { field: 'deadlineIn' });
  let deadline = input.deadline ?? null;
  if (input.deadlineIn !== undefined && input.deadlineIn !== null) {
    const ms = parseDuration(input.deadlineIn);
    if (!ms) throw badInput('deadlineIn must be a duration such as 30m, 2h or 1d', { field: 'deadlineIn' });
    deadline = new Date(now.getTime() + ms);
  }
  if (deadline && deadline <= now) throw badInput('deadline must be in the future', { field: 'deadline' });
  if (deadline && deadline.getTime() - now.getTime() > MAX_DEADLINE_MS)
    throw badInput('deadline must be within a year', { field: 'deadline' });
  return deadline;
}

function capabilitiesOf(input: CreateTaskInput): string[] {
  const names = [...new Set((input.requiredCapabilities ?? []).map((name) => name.trim()))];
  if (names.length > MAX_CAPABILITIES)
    throw badInput(`at most ${MAX_CAPABILITIES} required capabilities`, { field: 'requiredCapabilities' });
  if (names.some((name) => name.length < 1 || name.length > 64))
    throw badInput('each capability must be 1 to 64 characters', { field: 'requiredCapabilities' });
  return names;
}

export function validateCreateTask(input: CreateTaskInput, now: Date) {
  const title = text(input.title, 'title', 200, true) as string;
  // Amounts stay within the business maximum, so sums of them never leave a bigint column.
  checkMinorUnits(input.rewardMinor, { field: 'rewardMinor', allowZero: true });
  const budgetMinor = input.budgetMinor ?? null;
  if (budgetMinor !== null) checkMinorUnits(budgetMinor, { field: 'budgetMinor', allowZero: true });
  if (budgetMinor !== null && budgetMinor < input.rewardMinor)
    throw badInput('budgetMinor cannot be less than rewardMinor', { field: 'budgetMinor' });
  if (!/^[A-Z0-9]{2,12}$/.test(input.asset))
    throw badInput('asset must be an upper-case code', { field: 'asset' });
  const dependsOn = [...new Set(input.dependsOn ?? [])];
  if (dependsOn.length > MAX_DEPENDENCIES)
    throw badInput(`at most ${MAX_DEPENDENCIES} dependencies`, { field: 'dependsOn' });
  return {
    title,
    description: text(input.description, 'description', 10_000) ?? '',
    rewardMinor: input.rewardMinor,
    asset: input.asset,
    budgetMinor,
    agentId: input.agentId ?? null,
    agentName: text(input.agentName, 'agentName', MAX_WORKER_NAME),
    requiredCapabilities: capabilitiesOf(input),
    gazeRequired: input.gazeRequired ?? false,
    deadline: deadlineOf(input, now),
    status: input.fundingRequired ? TaskStatus.FUNDING : TaskStatus.OPEN,
    parentTaskId: input.parentTaskId ?? null,
    dependsOn,
  };
}

@InputType()
export class DeliverTaskInput {
  @Field({ description: 'The result itself or where to fetch it, up to 10000 characters.' })
  result!: string;

  @Field({ nullable: true, description: 'Up to 2000 characters.' })
  summary?: string;
}

/**
 * The worker of a task: an agent id is checked (it must exist), a free name is kept as the client
 * gave it and linked to an agent only when it is one's id. A linked agent must be taking work.
 */
export async function workerOf(
  ctx: SubgraphContext,
  agentId: string | null | undefined,
  agentName: string | null | undefined,
): Promise<{ agentId: string | null; agentName: string | null }> {
  const name = text(agentName, 'agentName', MAX_WORKER_NAME);
  const linked =
    agentId != null
      ? await ctx.references.require('Agent', agentId, 'agentId')
      : name !== null && (await ctx.references.exists('Agent', name))
        ? name
        : null;
  if (linked !== null) await requireAgentTakingWork(ctx, linked);
  return { agentId: linked, agentName: name };
}

export const validateDelivery = (input: DeliverTaskInput) => ({
  result: text(input.result, 'result', 10_000, true),
  summary: text(input.summary, 'summary', 2000),
  progress: 100,
});

@InputType()
export class ConfirmTaskInput {
  @Field(() => Int, { nullable: true, description: '1 to 5.' })
  rating?: number;

  @Field({ nullable: true, description: 'Up to 2000 characters.' })
  comment?: string;
}

export function validateConfirmation(input: ConfirmTaskInput) {
  const rating = input.rating ?? null;
  if (rating !== null && (rating < 1 || rating > 5))
    throw badInput('rating must be 1 to 5', { field: 'rating' });
  return { rating, ratingComment: text(input.comment, 'comment', 2000) };
}

export function validateProgress(progress: number) {
  if (progress < 0 || progress > 100) throw badInput('progress must be 0 to 100', { field: 'progress' });
  return { progress };
}

/** A required reason (dispute, failure), 1 to 2000 characters. */
export const reason = (value: string, field: string) => text(value, field, 2000, true);

/** A SPLIT names the agent's share in basis points (0 to 10000); the other outcomes name none. */
export function validateResolution(
  outcome: TaskResolution,
  note: string | undefined,
  agentShareBps?: number | null,
) {
  const split = outcome === TaskResolution.SPLIT;
  if (split !== (agentShareBps !== undefined && agentShareBps !== null))
    throw badInput(split ? 'a SPLIT needs agentShareBps' : `${outcome} takes no agentShareBps`, {
      field: 'agentShareBps',
    });
  if (split && (!Number.isInteger(agentShareBps) || agentShareBps! < 0 || agentShareBps! > 10_000))
    throw badInput('agentShareBps must be a whole number from 0 to 10000', { field: 'agentShareBps' });
  return {
    resolution: outcome,
    resolutionNote: text(note, 'note', 2000),
    resolutionAgentShareBps: split ? agentShareBps! : null,
  };
}

@ArgsType()
export class TaskEventFilter {
  @Field(() => ID, { nullable: true, description: 'Only events of this task.' })
  taskId?: string;

  @Field(() => ID, { nullable: true, description: 'Only events of tasks assigned to this agent.' })
  agentId?: string;

  @Field(() => TaskStatus, { nullable: true, description: 'Only events that leave a task in this status.' })
  status?: TaskStatus;
}

@ArgsType()
export class TaskEventArgs extends TaskEventFilter {
  @Field(() => String, {
    nullable: true,
    description: 'A seq from an earlier event: replay the events after it first, then continue live.',
  })
  after?: string;
}
