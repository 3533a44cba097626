import { ArrayType, BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';
import { RewardSettlement, TaskResolution, TaskStatus } from './task.machine';

export { RewardSettlement, TaskResolution, TaskStatus };

registerEnumType(TaskStatus, {
  name: 'TaskStatus',
  description: 'Where a task is in its lifecycle; hermesStatus and x402Status name it in those APIs.',
});
registerEnumType(TaskResolution, { name: 'TaskResolution' });
registerEnumType(RewardSettlement, {
  name: 'RewardSettlement',
  description:
    "NONE: nothing held (no reward, or BILLING off); HELD: locked from the creator's credits; " +
    "RELEASED: paid to the agent's owner less the platform fee; REFUNDED: back to the creator; " +
    "SPLIT: a resolution's share paid to the agent's owner (less the fee), the rest back to the creator.",
});

@ObjectType({ description: 'Work posted for agents, with a reward in minor units.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'task' })
export class Task {
  [OptionalProps]?:
    | 'id'
    | 'description'
    | 'status'
    | 'rewardMinor'
    | 'asset'
    | 'agentId'
    | 'agentName'
    | 'createdAt'
    | 'updatedAt'
    | 'requiredCapabilities'
    | 'gazeRequired'
    | 'progress'
    | 'dependsOn'
    | 'rewardSettlement';

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

  @Field(() => RewardSettlement, { description: 'Where the locked reward is: held, released or refunded.' })
  @Property({ type: 'string' })
  rewardSettlement: RewardSettlement = RewardSettlement.NONE;

  @Field(() => BigIntScalar, {
    nullable: true,
    description: 'The most the creator will spend on it, in minor units of `asset`.',
  })
  @Property({ type: new BigIntType('bigint'), nullable: true })
  budgetMinor: bigint | null = null;

  @Field(() => [String], { description: 'What an agent must be able to do to take it.' })
  @Property({ type: ArrayType })
  requiredCapabilities: string[] = [];

  @Field({ description: 'Only an account with a verified gaze attestation may claim it.' })
  @Property({ type: 'boolean' })
  gazeRequired: boolean = false;

  @Field(() => Date, { nullable: true, description: 'When an unfinished task expires.' })
  @Property({ type: 'Date', nullable: true })
  deadline: Date | null = null;

  @Property({ type: 'string' })
  creatorId!: string;

  @Property({ type: 'string', nullable: true })
  agentId: string | null = null;

  @Field(() => String, {
    nullable: true,
    description: 'The worker as the client named it (a free name, or the agent id it was given).',
  })
  @Property({ type: 'text', nullable: true })
  agentName: string | null = null;

  @Field(() => ID, { nullable: true, description: 'The task this one is a subtask of.' })
  @Property({ type: 'string', nullable: true })
  parentTaskId: string | null = null;

  @Field(() => [ID], { description: 'Tasks that must be COMPLETED before this one can be claimed.' })
  @Property({ type: ArrayType })
  dependsOn: string[] = [];

  @Field(() => Int, { description: 'Percent done, 0 to 100.' })
  @Property({ type: 'integer' })
  progress: number = 0;

  @Field(() => String, { nullable: true, description: 'What the agent delivered.' })
  @Property({ type: 'text', nullable: true })
  result: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  summary: string | null = null;

  @Field(() => Int, { nullable: true, description: "The creator's rating of the delivery, 1 to 5." })
  @Property({ type: 'integer', nullable: true })
  rating: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  ratingComment: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  disputeReason: string | null = null;

  @Field(() => TaskResolution, { nullable: true, description: 'How an admin settled the dispute.' })
  @Property({ type: 'string', nullable: true })
  resolution: TaskResolution | null = null;

  @Field(() => Int, {
    nullable: true,
    description: "A SPLIT resolution's agent share of the reward, in basis points (0 to 10000).",
  })
  @Property({ type: 'integer', nullable: true })
  resolutionAgentShareBps: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  resolutionNote: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  failureReason: string | null = null;

  @Field(() => String, {
    nullable: true,
    description:
      'The payment that funded the task when it was hired over HTTP 402 (a Solana signature, or the ' +
      'EVM transaction that settled an x402 v2 payment).',
  })
  @Property({ type: 'text', nullable: true })
  paymentTx: string | null = null;

  /** Not stored: set on a hire's own answer when an x402 v2 payment funded it. */
  @Field(() => String, {
    nullable: true,
    description:
      "On a hire's answer funded over x402 v2: the settlement as the base64 JSON PAYMENT-RESPONSE header.",
  })
  paymentResponse?: string;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  // One timestamp per transition, set by the transition that enters the state.
  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  fundedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  acceptedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  startedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  deliveredAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  confirmedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  disputedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  resolvedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  cancelledAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  failedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  expiredAt: Date | null = null;
}
