import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, Resolver, Root } from 'type-graphql';
import {
  AppError,
  BigIntScalar,
  conflict,
  badInput,
  loadConfig,
  newId,
  platformFee,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { RewardSettlement, Task } from './task.entity';
import { CreateTaskInput, validateCreateTask, workerOf } from './task.input';
import { TaskTransition } from './task.machine';
import { publishTaskEvent } from './task.events';
import { agentShareOf, holdReward, rewardTransferIds, voidReward } from './task.rewards';

/**
 * Hiring an agent over HTTP 402 (hermesx402, 004): the first call names the price, where to pay it
 * and the task id kept for the paid retry (PAYMENT_REQUIRED with those facts as extensions); the
 * retry carries a payment proof. The wallet verifies the proof and credits the payer's SOL account
 * with what it paid (once per proof); the task is then created with its reward held in ESCROW from
 * that account, and settles like any rewarded task (task.rewards.ts). One proof funds one task.
 */

const HIRE_ASSET = 'SOL';
const TASK_ID = /^task_[0-9a-z]{26}$/;
const AGENT = 'query ($id: ID!) { agent(id: $id) { id name priceMinor asset } }';
const PAYMENT =
  'mutation ($accountId: ID!, $signature: String!) { ledgerSolanaPayment(accountId: $accountId, signature: $signature) { amountMinor } }';

@InputType()
export class HireAgentInput {
  @Field(() => ID)
  agentId!: string;

  @Field({ description: 'What the agent is to do, up to 10000 characters; its first line is the title.' })
  description!: string;

  @Field(() => BigIntScalar, {
    nullable: true,
    description:
      "The most the hirer pays, in lamports; the price is the agent's rate, or this when it has none.",
  })
  budgetMinor?: bigint;

  @Field(() => String, { nullable: true, description: 'A duration such as 30m, 2h or 1d.' })
  deadlineIn?: string;

  @Field(() => String, {
    nullable: true,
    description: 'The task id the payment challenge named (X-Payment-Task-Id); a new one when left out.',
  })
  taskId?: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The payment: a Solana transaction signature that paid the escrow address. Left out: PAYMENT_REQUIRED.',
  })
  paymentProof?: string;
}

interface HiredAgent {
  id: string;
  name: string;
  priceMinor: string;
  asset: string;
}

/** The price of a hire: the agent's SOL rate, or the budget for an agent without one. */
function priceOf(agent: HiredAgent, budgetMinor: bigint | null): bigint {
  if (agent.asset !== HIRE_ASSET)
    throw badInput(`agent ${agent.id} is not priced in SOL`, { field: 'agentId' });
  const rate = BigInt(agent.priceMinor);
  if (rate > 0n && budgetMinor !== null && budgetMinor < rate)
    throw badInput(`the budget is below the agent's rate of ${rate} lamports`, { field: 'budgetMinor' });
  const price = rate > 0n ? rate : (budgetMinor ?? 0n);
  if (price <= 0n)
    throw badInput('the agent has no rate: name a budget above zero', { field: 'budgetMinor' });
  return price;
}

/** The 402: how much to pay, where, on which network, and the task id to retry with. */
function paymentRequired(message: string, priceMinor: bigint, taskId: string): AppError {
  const config = loadConfig();
  if (!config.SOLANA_ESCROW_ADDRESS || !config.SOLANA_RPC_URL)
    return new AppError('UPSTREAM_UNAVAILABLE', 'paid hiring is not configured on this platform');
  return new AppError('PAYMENT_REQUIRED', message, {
    requiredMinor: priceMinor.toString(),
    asset: HIRE_ASSET,
    payTo: config.SOLANA_ESCROW_ADDRESS,
    network: config.SOLANA_NETWORK,
    taskId,
  });
}

/** A proof already funded a task: the same hire again answers it; anything else is a CONFLICT. */
function sameHire(task: Task, creatorId: string, input: HireAgentInput): Task {
  if (
    task.creatorId === creatorId &&
    task.agentId === input.agentId &&
    (!input.taskId || input.taskId === task.id)
  )
    return task;
  throw conflict('this payment proof has already funded another task', { field: 'paymentProof' });
}

@Resolver(() => Task)
export class TaskHireResolver {
  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description:
      'Hire an agent, paying its SOL rate: without paymentProof PAYMENT_REQUIRED (extensions: requiredMinor, ' +
      'asset, payTo, network, taskId); with it, the task is created with its reward held in escrow.',
  })
  async hireAgent(@Arg('input') input: HireAgentInput, @Ctx() ctx: SubgraphContext): Promise<Task> {
    const creatorId = ctx.me().accountId;
    if (input.taskId != null && !TASK_ID.test(input.taskId))
      throw badInput('taskId must be the task id a payment challenge named', { field: 'taskId' });
    const draft = Object.assign(new CreateTaskInput(), {
      title: input.description.split('\n', 1)[0].slice(0, 200) || 'Hired task',
      description: input.description,
      asset: HIRE_ASSET,
      budgetMinor: input.budgetMinor ?? undefined,
      agentId: input.agentId,
      deadlineIn: input.deadlineIn ?? undefined,
    });
    validateCreateTask(draft, new Date()); // the client's own mistakes are 400s before any 402
    const { agent } = await ctx.peers.request<{ agent: HiredAgent }>('agents', AGENT, { id: input.agentId });
    const price = priceOf(agent, input.budgetMinor ?? null);
    const values = validateCreateTask(Object.assign(draft, { rewardMinor: price }), new Date());
    const worker = await workerOf(ctx, input.agentId, null);
    const taskId = input.taskId ?? newId('task');
    const proof = input.paymentProof;
    if (proof == null || proof === '')
      throw paymentRequired(
        `pay ${price} lamports to hire ${agent.name}, then retry with the proof`,
        price,
        taskId,
      );

    const funded = await ctx.em.findOne(Task, { paymentTx: proof });
    if (funded) return sameHire(funded, creatorId, input);
    if (input.taskId && (await ctx.em.findOne(Task, { id: input.taskId }, { fields: ['id'] })))
      throw conflict(`task ${input.taskId} already exists`, { field: 'taskId' });

    const { ledgerSolanaPayment: paid } = await ctx.peers.request<{
      ledgerSolanaPayment: { amountMinor: string };
    }>('wallet', PAYMENT, { accountId: creatorId, signature: proof });
    if (BigInt(paid.amountMinor) < price)
      throw paymentRequired(
        `the payment of ${paid.amountMinor} lamports is less than the ${price} required; ` +
          'it stays in your SOL balance',
        price,
        taskId,
      );

    const task = ctx.em.create(Task, { ...values, ...worker, id: taskId, creatorId, paymentTx: proof });
    await holdReward(ctx.peers, task);
    task.rewardSettlement = RewardSettlement.HELD;
    try {
      await ctx.em.flush();
    } catch (error) {
      await voidReward(ctx.peers, task.id);
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      // A concurrent retry with the same proof stored its task first.
      const winner = await ctx.em.fork().findOne(Task, { paymentTx: proof });
      if (winner) return sameHire(winner, creatorId, input);
      throw conflict(`task ${task.id} already exists`, { field: 'taskId' });
    }
    await publishTaskEvent(ctx, task, TaskTransition.CREATE, null);
    return task;
  }

  @FieldResolver(() => BigIntScalar, {
    nullable: true,
    description:
      "Once RELEASED or SPLIT: what the agent's owner was paid, the reward (or its share) less the platform fee.",
  })
  rewardPaidMinor(@Root() task: Task): bigint | null {
    const paid = [RewardSettlement.RELEASED, RewardSettlement.SPLIT];
    if (!paid.includes(task.rewardSettlement)) return null;
    const share = agentShareOf(task) ?? BigInt(task.rewardMinor);
    return share - platformFee(share);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "The ledger transfer that settled the reward: the owner's payout, or the refund.",
  })
  rewardTransfer(@Root() task: Task): string | null {
    const ids = rewardTransferIds(task.id);
    if (task.rewardSettlement === RewardSettlement.RELEASED) return ids.payout;
    if (task.rewardSettlement === RewardSettlement.SPLIT) return ids.payout;
    if (task.rewardSettlement === RewardSettlement.REFUNDED) return ids.refund;
    return null;
  }
}
