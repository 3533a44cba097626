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
import { requestHash, reserveHire } from './task.idempotency';

/**
 * Hiring an agent over HTTP 402: the first call names the price, where to pay it and the task id
 * kept for the paid retry (PAYMENT_REQUIRED with those facts as extensions); the retry carries one
 * payment credential. An agent priced in SOL is paid as hermesx402 (004) documents: a Solana
 * signature (X-Payment-Proof). One priced in USDC is paid over x402 v2: a signed payment
 * (PAYMENT-SIGNATURE) the wallet has a facilitator verify and settle. Either way the wallet credits
 * the payer's account with what was paid (once per payment); the task is then created with its
 * reward held in ESCROW from that account, and settles like any rewarded task (task.rewards.ts).
 * One payment funds one task; an Idempotency-Key makes a retried hire answer its first task.
 */

const TASK_ID = /^task_[0-9a-z]{26}$/;
const AGENT = 'query ($id: ID!) { agent(id: $id) { id name priceMinor asset } }';
const SOLANA_PAYMENT =
  'mutation ($accountId: ID!, $signature: String!) { ledgerSolanaPayment(accountId: $accountId, signature: $signature) { amountMinor } }';
const X402_TERMS =
  'query ($amountMinor: BigInt!, $resource: String!, $description: String!) { ledgerX402Terms(amountMinor: $amountMinor, resource: $resource, description: $description) }';
const X402_PAYMENT =
  'mutation ($accountId: ID!, $paymentSignature: String!, $amountMinor: BigInt!) { ledgerX402Payment(accountId: $accountId, paymentSignature: $paymentSignature, amountMinor: $amountMinor) { deposit { amountMinor txHash } paymentResponse } }';

@InputType()
export class HireAgentInput {
  @Field(() => ID)
  agentId!: string;

  @Field({ description: 'What the agent is to do, up to 10000 characters; its first line is the title.' })
  description!: string;

  @Field(() => BigIntScalar, {
    nullable: true,
    description:
      "The most the hirer pays, in lamports (SOL agents only); the price is the agent's rate, or this when it has none.",
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
      'For an agent priced in SOL: a Solana transaction signature that paid the escrow address (X-Payment-Proof).',
  })
  paymentProof?: string;

  @Field(() => String, {
    nullable: true,
    description:
      'For an agent priced in USDC: the x402 v2 PAYMENT-SIGNATURE header (base64 JSON payment payload). ' +
      'With neither payment: PAYMENT_REQUIRED.',
  })
  paymentSignature?: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Makes a paid hire safe to retry: the same key with the same request answers the first task; ' +
      'with another request, UNPROCESSABLE; while the first is under way, CONFLICT.',
  })
  idempotencyKey?: string;
}

interface HiredAgent {
  id: string;
  name: string;
  priceMinor: string;
  asset: string;
}

/** The new task's fields: the validated request, its worker and its id. */
type TaskValues = ReturnType<typeof validateCreateTask> &
  Awaited<ReturnType<typeof workerOf>> & { id: string };

/** What a payment credential brought in: the amount credited and the transaction that moved it. */
interface Payment {
  amountMinor: bigint;
  tx: string;
  /** x402 v2's PAYMENT-RESPONSE header. */
  response?: string;
}

/** The rail each asset is paid through, and the input field that carries its credential. */
const RAILS = {
  SOL: { credential: 'paymentProof', header: 'X-Payment-Proof' },
  USDC: { credential: 'paymentSignature', header: 'PAYMENT-SIGNATURE' },
} as const;
type HireAsset = keyof typeof RAILS;
const isHireAsset = (asset: string): asset is HireAsset => asset in RAILS;

/** The price of a hire: the agent's rate, or (SOL agents) the budget for an agent without one. */
function priceOf(agent: HiredAgent, budgetMinor: bigint | null): bigint {
  if (!isHireAsset(agent.asset))
    throw badInput(`agent ${agent.id} is priced in ${agent.asset}: hires pay SOL or USDC`, {
      field: 'agentId',
    });
  if (agent.asset !== 'SOL' && budgetMinor !== null)
    throw badInput(`the budget is counted in SOL; agent ${agent.id} is hired at its ${agent.asset} rate`, {
      field: 'budgetMinor',
    });
  const rate = BigInt(agent.priceMinor);
  if (rate > 0n && budgetMinor !== null && budgetMinor < rate)
    throw badInput(`the budget is below the agent's rate of ${rate} lamports`, { field: 'budgetMinor' });
  const price = rate > 0n ? rate : (budgetMinor ?? 0n);
  if (price <= 0n)
    throw badInput('the agent has no rate: name a budget above zero', { field: 'budgetMinor' });
  return price;
}

/** What an x402 v2 payment buys: the hire of this agent. */
const resourceOf = (agent: HiredAgent) => ({
  resource: `urn:agentry:hire:${agent.id}`,
  description: `Hire ${agent.name}`.slice(0, 200),
});

/**
 * The 402: how much to pay, in which asset, the task id to retry with, and where: a SOL hire names
 * the Solana escrow address and network, a USDC hire carries x402 v2's PaymentRequired
 * (`paymentRequired`, the base64 header the wallet builds).
 */
async function paymentRequired(
  ctx: SubgraphContext,
  message: string,
  agent: HiredAgent,
  priceMinor: bigint,
  taskId: string,
): Promise<AppError> {
  const config = loadConfig();
  const terms = { requiredMinor: priceMinor.toString(), asset: agent.asset, taskId };
  if (agent.asset === 'SOL') {
    if (!config.SOLANA_ESCROW_ADDRESS || !config.SOLANA_RPC_URL)
      return new AppError('UPSTREAM_UNAVAILABLE', 'paid hiring is not configured on this platform');
    return new AppError('PAYMENT_REQUIRED', message, {
      ...terms,
      payTo: config.SOLANA_ESCROW_ADDRESS,
      network: config.SOLANA_NETWORK,
    });
  }
  if (!config.X402_FACILITATOR_URL || !config.X402_PAY_TO)
    return new AppError('UPSTREAM_UNAVAILABLE', 'x402 hiring is not configured on this platform');
  const { ledgerX402Terms } = await ctx.peers.request<{ ledgerX402Terms: string }>('wallet', X402_TERMS, {
    amountMinor: priceMinor.toString(),
    ...resourceOf(agent),
  });
  return new AppError('PAYMENT_REQUIRED', message, { ...terms, paymentRequired: ledgerX402Terms });
}

/** Has the wallet take the hire's payment through the agent's rail. */
async function pay(
  ctx: SubgraphContext,
  agent: HiredAgent & { asset: HireAsset },
  credential: string,
  price: bigint,
): Promise<Payment> {
  const accountId = ctx.me().accountId;
  if (agent.asset === 'SOL') {
    const { ledgerSolanaPayment: paid } = await ctx.peers.request<{
      ledgerSolanaPayment: { amountMinor: string };
    }>('wallet', SOLANA_PAYMENT, { accountId, signature: credential });
    return { amountMinor: BigInt(paid.amountMinor), tx: credential };
  }
  const { ledgerX402Payment: paid } = await ctx.peers.request<{
    ledgerX402Payment: { deposit: { amountMinor: string; txHash: string }; paymentResponse: string };
  }>('wallet', X402_PAYMENT, { accountId, paymentSignature: credential, amountMinor: price.toString() });
  return {
    amountMinor: BigInt(paid.deposit.amountMinor),
    tx: paid.deposit.txHash,
    response: paid.paymentResponse,
  };
}

/** The one payment credential a retry carries, which must be the agent's rail's. */
function credentialOf(input: HireAgentInput, asset: HireAsset): string | undefined {
  const sent = (Object.keys(RAILS) as HireAsset[]).filter((a) => input[RAILS[a].credential]);
  if (sent.length > 1) throw badInput('send one payment credential, not several', { field: 'payment' });
  if (sent.length && sent[0] !== asset)
    throw badInput(`agent ${input.agentId} is priced in ${asset}: pay with ${RAILS[asset].header}`, {
      field: RAILS[sent[0]].credential,
    });
  return input[RAILS[asset].credential] || undefined;
}

/** A payment already funded a task: the same hire again answers it; anything else is a CONFLICT. */
function sameHire(task: Task, creatorId: string, input: HireAgentInput): Task {
  if (
    task.creatorId === creatorId &&
    task.agentId === input.agentId &&
    (!input.taskId || input.taskId === task.id)
  )
    return task;
  throw conflict('this payment has already funded another task', { field: 'payment' });
}

@Resolver(() => Task)
export class TaskHireResolver {
  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description:
      'Hire an agent, paying its SOL or USDC rate: without a payment PAYMENT_REQUIRED (extensions: ' +
      'requiredMinor, asset, taskId and, for SOL, payTo and network, for USDC, paymentRequired); with ' +
      'it, the task is created with its reward held in escrow.',
  })
  async hireAgent(@Arg('input') input: HireAgentInput, @Ctx() ctx: SubgraphContext): Promise<Task> {
    const creatorId = ctx.me().accountId;
    if (input.taskId != null && !TASK_ID.test(input.taskId))
      throw badInput('taskId must be the task id a payment challenge named', { field: 'taskId' });
    const draft = Object.assign(new CreateTaskInput(), {
      title: input.description.split('\n', 1)[0].slice(0, 200) || 'Hired task',
      description: input.description,
      asset: 'SOL',
      budgetMinor: input.budgetMinor ?? undefined,
      agentId: input.agentId,
      deadlineIn: input.deadlineIn ?? undefined,
    });
    validateCreateTask(draft, new Date()); // the client's own mistakes are 400s before any 402
    const { agent } = await ctx.peers.request<{ agent: HiredAgent }>('agents', AGENT, { id: input.agentId });
    const price = priceOf(agent, input.budgetMinor ?? null);
    const asset = agent.asset as HireAsset;
    const values = validateCreateTask(Object.assign(draft, { asset, rewardMinor: price }), new Date());
    const worker = await workerOf(ctx, input.agentId, null);
    const taskId = input.taskId ?? newId('task');
    const credential = credentialOf(input, asset);
    if (!credential)
      throw await paymentRequired(
        ctx,
        `pay ${price} ${asset === 'SOL' ? 'lamports' : 'USDC units'} to hire ${agent.name}, then retry with the payment`,
        agent,
        price,
        taskId,
      );

    const hire = () =>
      this.paidHire(ctx, input, { ...agent, asset }, credential, price, { ...values, ...worker, id: taskId });
    if (!input.idempotencyKey) return hire();
    const reservation = await reserveHire(
      ctx,
      creatorId,
      input.idempotencyKey,
      requestHash([
        input.agentId,
        input.description,
        input.budgetMinor?.toString() ?? null,
        input.deadlineIn ?? null,
      ]),
    );
    if (reservation.kind === 'answered') return ctx.em.findOneOrFail(Task, { id: reservation.taskId });
    try {
      const task = await hire();
      await reservation.done(task.id);
      return task;
    } catch (error) {
      await reservation.release();
      throw error;
    }
  }

  /** Takes the payment and creates the task with its reward in escrow, or answers the task it funded. */
  private async paidHire(
    ctx: SubgraphContext,
    input: HireAgentInput,
    agent: HiredAgent & { asset: HireAsset },
    credential: string,
    price: bigint,
    values: TaskValues,
  ): Promise<Task> {
    const creatorId = ctx.me().accountId;
    let payment: Payment;
    try {
      payment = await pay(ctx, agent, credential, price);
    } catch (error) {
      // The wallet refused the payment as not covering these terms: answer them again.
      if (error instanceof AppError && error.extensions.code === 'PAYMENT_REQUIRED')
        throw await paymentRequired(ctx, error.message, agent, price, values.id);
      throw error;
    }
    const answer = (task: Task) => Object.assign(task, { paymentResponse: payment.response });
    const funded = await ctx.em.findOne(Task, { paymentTx: payment.tx });
    if (funded) return answer(sameHire(funded, creatorId, input));
    if (input.taskId && (await ctx.em.findOne(Task, { id: input.taskId }, { fields: ['id'] })))
      throw conflict(`task ${input.taskId} already exists`, { field: 'taskId' });
    if (payment.amountMinor < price)
      throw await paymentRequired(
        ctx,
        `the payment of ${payment.amountMinor} lamports is less than the ${price} required; ` +
          'it stays in your SOL balance',
        agent,
        price,
        values.id,
      );

    const task = ctx.em.create(Task, { ...values, creatorId, paymentTx: payment.tx });
    await holdReward(ctx.peers, task);
    task.rewardSettlement = RewardSettlement.HELD;
    try {
      await ctx.em.flush();
    } catch (error) {
      await voidReward(ctx.peers, task.id);
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      // A concurrent retry with the same payment stored its task first.
      const winner = await ctx.em.fork().findOne(Task, { paymentTx: payment.tx });
      if (winner) return answer(sameHire(winner, creatorId, input));
      throw conflict(`task ${task.id} already exists`, { field: 'taskId' });
    }
    await publishTaskEvent(ctx, task, TaskTransition.CREATE, null);
    return answer(task);
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
