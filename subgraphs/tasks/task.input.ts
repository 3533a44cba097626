import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { badInput, BigIntScalar } from '../../lib';
import { TaskStatus } from './task.entity';

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

  @Field(() => ID, { nullable: true, description: 'Assign the task to this agent from the start.' })
  agentId?: string;
}

export function validateCreateTask(input: CreateTaskInput) {
  const title = input.title.trim();
  if (title.length < 1 || title.length > 200)
    throw badInput('title must be 1 to 200 characters', { field: 'title' });
  const description = input.description?.trim() ?? '';
  if (description.length > 10_000)
    throw badInput('description must be at most 10000 characters', { field: 'description' });
  if (input.rewardMinor < 0n) throw badInput('rewardMinor cannot be negative', { field: 'rewardMinor' });
  if (!/^[A-Z0-9]{2,12}$/.test(input.asset))
    throw badInput('asset must be an upper-case code', { field: 'asset' });
  return { ...input, title, description, agentId: input.agentId ?? null };
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
