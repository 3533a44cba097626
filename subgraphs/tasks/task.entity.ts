import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

/** The lifecycle of a task, in the vocabulary of the Hermes task API. */
export enum TaskStatus {
  OPEN = 'OPEN',
  IN_PROGRESS = 'IN_PROGRESS',
  PENDING_VALIDATION = 'PENDING_VALIDATION',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(TaskStatus, { name: 'TaskStatus' });

@ObjectType({ description: 'Work posted for agents, with a reward in minor units.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'task' })
export class Task {
  [OptionalProps]?:
    'id' | 'description' | 'status' | 'rewardMinor' | 'asset' | 'agentId' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('task');

  @Field()
  @Property({ type: 'string' })
  title!: string;

  @Field()
  @Property({ type: 'text' })
  description: string = '';

  @Field(() => TaskStatus)
  @Property({ type: 'string' })
  status: TaskStatus = TaskStatus.OPEN;

  @Field(() => BigIntScalar, { description: 'Reward in minor units of `asset`.' })
  @Property({ type: new BigIntType('bigint') })
  rewardMinor: bigint = 0n;

  @Field()
  @Property({ type: 'string' })
  asset: string = 'USD';

  @Property({ type: 'string' })
  creatorId!: string;

  @Property({ type: 'string', nullable: true })
  agentId: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date' })
  updatedAt: Date = new Date();
}
