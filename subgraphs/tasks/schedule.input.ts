import { Field, InputType } from 'type-graphql';
import { badInput, BigIntScalar, checkMinorUnits } from '../../lib';
import { nextRun } from './schedule.runner';

@InputType()
export class CreateScheduleInput {
  @Field()
  name!: string;

  @Field({ description: 'Five-field cron expression in UTC, e.g. "0 9 * * 1-5".' })
  cron!: string;

  @Field({ description: 'Title of the task each run posts.' })
  taskTitle!: string;

  @Field({ nullable: true })
  taskDescription?: string;

  @Field(() => BigIntScalar, { defaultValue: 0n })
  taskRewardMinor: bigint = 0n;

  @Field({ defaultValue: 'USD' })
  taskAsset: string = 'USD';
}

export function validateCreateSchedule(input: CreateScheduleInput, now: Date) {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw badInput('name must be 1 to 100 characters', { field: 'name' });
  const taskTitle = input.taskTitle.trim();
  if (taskTitle.length < 1 || taskTitle.length > 200)
    throw badInput('taskTitle must be 1 to 200 characters', { field: 'taskTitle' });
  checkMinorUnits(input.taskRewardMinor, { field: 'taskRewardMinor', allowZero: true });
  if (!/^[A-Z0-9]{2,12}$/.test(input.taskAsset))
    throw badInput('taskAsset must be an upper-case code', { field: 'taskAsset' });
  const cron = input.cron.trim();
  return {
    name,
    cron,
    taskTitle,
    taskDescription: input.taskDescription?.trim() ?? '',
    taskRewardMinor: input.taskRewardMinor,
    taskAsset: input.taskAsset,
    nextRunAt: nextRun(cron, now),
  };
}
