import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

/** A cron job that posts a task each time it fires (002's scheduler). */
@ObjectType({ description: 'A schedule that creates a task each time its cron expression fires.' })
@Entity({ tableName: 'schedule' })
export class Schedule {
  [OptionalProps]?:
    'id' | 'enabled' | 'lastRunAt' | 'createdAt' | 'taskDescription' | 'taskRewardMinor' | 'taskAsset';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('sch');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  name!: string;

  @Field({ description: 'Five-field cron expression, evaluated in UTC.' })
  @Property({ type: 'string' })
  cron!: string;

  @Field()
  @Property({ type: 'string' })
  taskTitle!: string;

  @Field()
  @Property({ type: 'text' })
  taskDescription: string = '';

  @Field(() => BigIntScalar)
  @Property({ type: new BigIntType('bigint') })
  taskRewardMinor: bigint = 0n;

  @Field()
  @Property({ type: 'string' })
  taskAsset: string = 'USD';

  @Field()
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Field()
  @Property({ type: 'Date' })
  nextRunAt!: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  lastRunAt: Date | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

export enum ScheduleRunStatus {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(ScheduleRunStatus, { name: 'ScheduleRunStatus' });

@ObjectType({ description: 'One firing of a schedule.' })
@Entity({ tableName: 'schedule_run' })
export class ScheduleRun {
  [OptionalProps]?: 'id' | 'taskId' | 'error';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('run');

  @Field(() => ID)
  @Property({ type: 'string' })
  scheduleId!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field({ description: 'When the schedule was due.' })
  @Property({ type: 'Date' })
  dueAt!: Date;

  @Field()
  @Property({ type: 'Date' })
  ranAt!: Date;

  @Field(() => ScheduleRunStatus)
  @Property({ type: 'string' })
  status!: ScheduleRunStatus;

  @Field(() => ID, { nullable: true, description: 'The task it created.' })
  @Property({ type: 'string', nullable: true })
  taskId: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', nullable: true })
  error: string | null = null;
}
