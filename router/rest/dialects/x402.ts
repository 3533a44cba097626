/**
 * x402: the hermesx402 marketplace (004). Errors `{"error", "code"}`, 400 for invalid input,
 * money as JSON numbers of SOL, and `X-Payment-Protocol: x402/1.0` on every response.
 * Hiring (POST /tasks) is 004's 402 flow: the first call answers 402 with the `X-Payment-*` terms,
 * the retry with `X-Payment-Proof` (a Solana signature the wallet verifies) creates the task with its
 * reward in escrow.
 */
import { randomBytes } from 'node:crypto';
import {
  AgentByIdDocument,
  AgentCountDocument,
  AgentCreateDocument,
  AgentListDocument,
  AgentPauseDocument,
  AgentUnpauseDocument,
  AgentUpdateDocument,
  MyAgentDocument,
  MyAgentPauseDocument,
  MyAgentUnpauseDocument,
  MyAgentUpdateDocument,
  WalletActivityListDocument,
  WalletSummaryOfDocument,
  WithdrawalRequestDocument,
  TaskByIdDocument,
  TaskCancelDocument,
  TaskClaimDocument,
  TaskConfirmDocument,
  TaskDeliverDocument,
  TaskDisputeDocument,
  TaskHireDocument,
  TaskEventStreamDocument,
  WebhookRegisterDocument,
  type AgentFieldsFragment,
  type TaskFieldsFragment,
} from '../generated/graphql';
import {
  commaList,
  decimalAmount,
  decimalsOf,
  derived,
  fixed,
  fromBody,
  fromHeader,
  fromPath,
  fromQuery,
  integer,
  lower,
  minorToNumber,
  numberBetween,
  oneOf,
  withDefault,
  required,
} from '../mapping';
import { activityType, movementAmount, movementStatus } from '../wallet-shapes';
import { route, type Dialect, type Problem } from '../types';

/** x402's error codes: the documented INVALID_STATUS for state conflicts, plain names otherwise. */
function errorCode({ code, extensions }: Problem): string {
  if (code === 'CONFLICT') return extensions?.status ? 'INVALID_STATUS' : 'CONFLICT';
  if (code === 'FORBIDDEN' && extensions?.credential === 'invalid') return 'INVALID_API_KEY';
  const names: Record<string, string> = {
    BAD_USER_INPUT: 'INVALID_PARAMETERS',
    BAD_REQUEST: 'INVALID_REQUEST',
    UNSUPPORTED_MEDIA_TYPE: 'INVALID_CONTENT_TYPE',
    UNAUTHENTICATED: 'MISSING_API_KEY',
    INTERNAL_SERVER_ERROR: 'INTERNAL_ERROR',
  };
  return names[code] ?? code;
}

/**
 * A 402's terms as headers: 004's `X-Payment-*` for a SOL hire (the amount in SOL, where to send it,
 * the network, the currency and the task id the paid retry creates); x402 v2's `PAYMENT-REQUIRED`
 * for a USDC hire. The engine adds `Cache-Control: no-store` to every 402.
 */
function paymentHeaders({ code, extensions: e }: Problem): Record<string, string> | undefined {
  if (code !== 'PAYMENT_REQUIRED') return undefined;
  return {
    ...(typeof e?.payTo === 'string' && {
      'X-Payment-Required': 'true',
      'X-Payment-Amount': String(sol(String(e.requiredMinor))),
      'X-Payment-Address': e.payTo,
      'X-Payment-Network': String(e.network),
      'X-Payment-Currency': String(e.asset),
    }),
    ...(typeof e?.taskId === 'string' && { 'X-Payment-Task-Id': e.taskId }),
    ...(typeof e?.paymentRequired === 'string' && { 'PAYMENT-REQUIRED': e.paymentRequired }),
  };
}

/** 004 shows SOL as JSON numbers; the ledger keeps lamports. */
const SOL = 'SOL';
const sol = (minor: string) => minorToNumber(minor, decimalsOf(SOL));

/** 004's listings show an agent taking work as "online" (its register answer says "active"). */
const listed = (status: string) => (status === 'ACTIVE' ? 'online' : lower(status));

const listing = (a: AgentFieldsFragment) => ({
  id: a.id,
  name: a.name,
  description: a.description,
  tags: a.tags,
  rate: minorToNumber(a.priceMinor, decimalsOf(a.asset)),
  // The average of its confirmed tasks' ratings; null until one is rated.
  rating: a.rating ?? null,
  tasks_completed: a.tasksCompleted,
  status: listed(a.status),
});

const detail = (a: AgentFieldsFragment) => ({
  ...listing(a),
  wallet: a.wallet,
  max_concurrent: a.maxConcurrent,
  created_at: a.createdAt,
});

/** x402 speaks SOL: an agent priced in anything else is not one of its listings (404), read or changed. */
const SOL_ONLY = { asset: fixed('SOL') } as const;

const SORTS = { rating: 'RATING', price: 'PRICE', tasks: 'TASKS' } as const;

/** The fields of 004's register body (and the CLI's), for register and update. */
const agentFields = {
  'input.name': fromBody('name'),
  'input.description': fromBody('description'),
  'input.tags': fromBody('tags', commaList, 'capability tags, up to 10'),
  'input.priceMinor': fromBody('rate', decimalAmount(9), 'SOL per task'),
  'input.endpointUrl': fromBody('endpoint'),
  'input.wallet': fromBody('wallet'),
  'input.maxConcurrent': fromBody('max_concurrent', integer(1, 1000)),
} as const;

/** An update that names a rate is checked against the agent's asset. */
const updateFields = {
  ...agentFields,
  'input.priceAsset': derived(({ body }) => (body.rate === undefined ? undefined : 'SOL')),
} as const;

/** Time left before the deadline as 004 writes it ("1h23m"); "0m" once it passed, null without one. */
function remaining(deadline: string | null | undefined): string | null {
  if (!deadline) return null;
  const minutes = Math.max(0, Math.floor((Date.parse(deadline) - Date.now()) / 60_000));
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours}h${minutes % 60}m` : `${minutes}m`;
}

const status = (t: TaskFieldsFragment) => ({
  task_id: t.id,
  agent_id: t.agent?.id ?? null,
  status: t.x402Status,
  progress: t.progress,
  escrow: minorToNumber(t.rewardMinor, decimalsOf(t.asset)),
  deadline_remaining: remaining(t.deadline),
  created_at: t.createdAt,
});

/** x402 agents have no ticker; the marketplace needs one, so it is made from the name. */
function tickerFor(name: unknown): string {
  const letters =
    typeof name === 'string'
      ? name
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, '')
          .slice(0, 6)
      : '';
  return letters + randomBytes(2).toString('hex').toUpperCase();
}

export const x402: Dialect = {
  name: 'x402',
  title: 'hermesx402 agent marketplace',
  references: ['004'],
  mountSetting: 'REST_MOUNT_X402',
  owns: [''],
  headers: { 'X-Payment-Protocol': 'x402/1.0' },
  // "All requests require a valid API key" (/api/health excepted): missing is 401, invalid 403.
  credentials: { invalid: 'FORBIDDEN' },
  errors: {
    invalidInput: 400,
    wrongContentType: 400,
    body: (problem) => ({ error: problem.message, code: errorCode(problem) }),
    headers: paymentHeaders,
  },
  routes: [
    route({
      method: 'GET',
      path: '/agents',
      summary:
        'Browse agents priced in SOL. sort: rating (default; unrated last), price (cheapest first), ' +
        'tasks (most completed first); ties newest first',
      operation: AgentListDocument,
      variables: {
        sort: withDefault(fromQuery('sort', oneOf(SORTS)), 'rating'),
        tag: fromQuery('tag'),
        minRating: fromQuery('min_rating', numberBetween(0, 5)),
        maxPriceMinor: fromQuery('max_rate', decimalAmount(9), 'most SOL per task'),
        asset: fixed('SOL'),
      },
      paged: { connection: (d) => d.agents },
      shape: ({ agents }) => ({ agents: agents.nodes.map(listing) }),
    }),
    // The agent-side routes of hermesx402's CLI (status, update, pause, unpause) act on the agent of
    // the calling key; more specific than /agents/:id, they win for the path "me".
    route({
      method: 'GET',
      path: '/agents/me',
      summary: 'Your agent: the newest listed with the calling API key, else your newest',
      operation: MyAgentDocument,
      variables: SOL_ONLY,
      shape: (d) => detail(d.myAgent),
    }),
    route({
      method: 'PATCH',
      path: '/agents/me',
      summary: 'Update your agent: any subset of the register fields',
      operation: MyAgentUpdateDocument,
      variables: { ...updateFields, ...SOL_ONLY },
      shape: (d) => detail(d.updateMyAgent),
    }),
    route({
      method: 'POST',
      path: '/agents/me/pause',
      summary: 'Pause your agent: it takes no new tasks; tasks under way continue',
      operation: MyAgentPauseDocument,
      variables: SOL_ONLY,
      shape: (d) => detail(d.pauseMyAgent),
    }),
    route({
      method: 'POST',
      path: '/agents/me/unpause',
      summary: 'Unpause your agent',
      operation: MyAgentUnpauseDocument,
      variables: SOL_ONLY,
      shape: (d) => detail(d.unpauseMyAgent),
    }),
    route({
      method: 'GET',
      path: '/agents/:id',
      summary: 'Get agent details (agents priced in SOL)',
      operation: AgentByIdDocument,
      variables: { id: fromPath('id'), ...SOL_ONLY },
      shape: (d) => detail(d.agent),
    }),
    route({
      method: 'POST',
      path: '/agents',
      summary: 'Register agent: 201 {id, name, status} and the rate, which the CLI prints',
      operation: AgentCreateDocument,
      status: 201,
      variables: {
        ...agentFields,
        'input.asset': fixed('SOL'),
        'input.ticker': derived(({ body }) => body.ticker ?? tickerFor(body.name), 'ticker'),
      },
      shape: ({ createAgent: a }) => ({
        id: a.id,
        name: a.name,
        status: lower(a.status),
        rate: minorToNumber(a.priceMinor, decimalsOf(a.asset)),
      }),
    }),
    route({
      method: 'PATCH',
      path: '/agents/:id',
      summary: "Update your agent: any subset of the register fields (another account's is 404)",
      operation: AgentUpdateDocument,
      variables: { id: fromPath('id'), ...updateFields, ...SOL_ONLY },
      shape: (d) => detail(d.updateAgent),
    }),
    route({
      method: 'POST',
      path: '/agents/:id/pause',
      summary: 'Pause: the agent takes no new tasks; tasks under way continue',
      operation: AgentPauseDocument,
      variables: { id: fromPath('id'), ...SOL_ONLY },
      shape: (d) => detail(d.pauseAgent),
    }),
    route({
      method: 'POST',
      path: '/agents/:id/unpause',
      summary: 'Unpause: the agent takes new tasks again',
      operation: AgentUnpauseDocument,
      variables: { id: fromPath('id'), ...SOL_ONLY },
      shape: (d) => detail(d.unpauseAgent),
    }),
    route({
      method: 'POST',
      path: '/tasks',
      summary:
        "Hire an agent: 402 with the terms (the agent's rate, or the budget), then the paid retry creates the " +
        'task: 201. A SOL agent: X-Payment-* terms, retry with X-Payment-Proof (a Solana signature paying the ' +
        'escrow address). A USDC agent: x402 v2, PAYMENT-REQUIRED, retry with PAYMENT-SIGNATURE; the 201 ' +
        'carries PAYMENT-RESPONSE. Idempotency-Key: a retry answers the first task. At most 10 a minute',
      operation: TaskHireDocument,
      status: 201,
      // 004's "Task creation: 10/minute": the paid attempts; asking for the terms creates nothing.
      rateLimit: { perMinute: 10, counts: ({ payment }) => payment !== undefined },
      variables: {
        'input.agentId': required(fromBody('agent_id')),
        'input.description': required(fromBody('description')),
        'input.budgetMinor': fromBody('budget', decimalAmount(9), 'most SOL to pay'),
        'input.deadlineIn': fromBody('deadline', undefined, 'a duration: 30m, 2h, 1d'),
        'input.paymentProof': fromHeader('x-payment-proof'),
        'input.paymentSignature': fromHeader('payment-signature'),
        'input.idempotencyKey': fromHeader('idempotency-key'),
        'input.taskId': fromHeader('x-payment-task-id'),
      },
      headers: ({ hireAgent: t }) => ({ 'PAYMENT-RESPONSE': t.paymentResponse }),
      shape: ({ hireAgent: t }) => ({
        task_id: t.id,
        status: t.x402Status,
        escrow: minorToNumber(t.rewardMinor, decimalsOf(t.asset)),
        tx: t.paymentTx,
      }),
    }),
    route({
      method: 'GET',
      path: '/tasks/:id',
      summary: 'Get task status',
      operation: TaskByIdDocument,
      variables: { id: fromPath('id') },
      shape: (d) => status(d.task),
    }),
    // 004 documents task events only as webhooks; the same events, named as its webhooks name them
    // and with the webhook payload, stream from the task's own URL to clients that accept SSE.
    route({
      method: 'GET',
      path: '/tasks/:id',
      summary: "The task's events as Server-Sent Events (task.created, task.accepted, …)",
      operation: TaskEventStreamDocument,
      // Each event's id is its cursor, so a reconnecting EventSource resumes where it stopped.
      variables: { taskId: fromPath('id'), after: fromHeader('last-event-id') },
      stream: {
        event: ({ taskEvents: e }) => {
          const event = `task.${e.task.x402Status}`;
          return {
            event,
            id: e.seq,
            data: { event, task_id: e.task.id, agent_id: e.task.agent?.id ?? null, timestamp: e.at },
          };
        },
      },
    }),
    route({
      method: 'POST',
      path: '/tasks/:id/accept',
      summary:
        'Accept task (agent side; 409 unless created): as the agent it was hired for, else your own agent',
      operation: TaskClaimDocument,
      variables: { id: fromPath('id'), agentId: fromBody('agent_id', undefined, 'the accepting agent') },
      shape: (d) => status(d.claimTask),
    }),
    route({
      method: 'POST',
      path: '/tasks/:id/deliver',
      summary: 'Deliver the result (409 unless accepted or working)',
      operation: TaskDeliverDocument,
      variables: {
        id: fromPath('id'),
        'input.result': fromBody('result'),
        'input.summary': fromBody('summary'),
      },
      shape: (d) => status(d.deliverTask),
    }),
    // A hired task's reward settles as the transition commits: released is what the agent's owner
    // got (the reward less the platform fee), tx the ledger transfer; 0 and null when nothing was held.
    route({
      method: 'POST',
      path: '/tasks/:id/confirm',
      summary: 'Confirm the delivery, with an optional rating 1–5 (409 unless delivered)',
      operation: TaskConfirmDocument,
      variables: {
        id: fromPath('id'),
        'input.rating': fromBody('rating', integer(1, 5)),
        'input.comment': fromBody('comment'),
      },
      shape: ({ confirmTask: t }) => ({
        ...status(t),
        released: t.rewardPaidMinor ? sol(t.rewardPaidMinor) : 0,
        tx: t.rewardTransfer ?? null,
      }),
    }),
    route({
      method: 'POST',
      path: '/tasks/:id/dispute',
      summary: 'Dispute the delivery, within 24 h of it (409 otherwise)',
      operation: TaskDisputeDocument,
      variables: { id: fromPath('id'), reason: fromBody('reason') },
      shape: (d) => status(d.disputeTask),
    }),
    route({
      method: 'POST',
      path: '/tasks/:id/cancel',
      summary: 'Cancel before an agent accepts (409 afterwards)',
      operation: TaskCancelDocument,
      variables: { id: fromPath('id') },
      shape: ({ cancelTask: t }) => ({
        ...status(t),
        refunded: t.rewardTransfer ? minorToNumber(t.rewardMinor, decimalsOf(t.asset)) : 0,
        tx: t.rewardTransfer ?? null,
      }),
    }),
    route({
      method: 'POST',
      path: '/webhooks',
      summary: 'Register a webhook for task events; the signing secret is shown this once',
      operation: WebhookRegisterDocument,
      status: 201,
      variables: {
        'input.url': fromBody('url'),
        'input.events': fromBody('events', undefined, 'task.created, task.accepted, … or *'),
      },
      shape: ({ createWebhookEndpoint: { endpoint, secret } }) => ({
        id: endpoint.id,
        url: endpoint.url,
        events: endpoint.events,
        status: lower(endpoint.status),
        secret,
        created_at: endpoint.createdAt,
      }),
    }),
    route({
      method: 'GET',
      path: '/payments/balance',
      summary: 'Get balance: available, pending (on its way in) and total earned, in SOL',
      operation: WalletSummaryOfDocument,
      variables: { asset: fixed(SOL) },
      shape: ({ walletSummary: s }) => ({
        available: sol(s.availableMinor),
        pending: sol(s.incomingMinor),
        total_earned: sol(s.earnedMinor),
      }),
    }),
    route({
      method: 'POST',
      path: '/payments/withdraw',
      summary: 'Withdraw SOL to a wallet: held until the payout confirms, returned when it fails',
      operation: WithdrawalRequestDocument,
      variables: {
        'input.asset': fixed(SOL),
        'input.amountMinor': required(fromBody('amount', decimalAmount(9), 'SOL')),
        'input.destination': required(fromBody('to', undefined, 'Solana address')),
      },
      shape: ({ requestWithdrawal: w }) => ({
        status: lower(w.status),
        amount: sol(w.amountMinor),
        tx: w.tx,
        fee: sol(w.feeMinor),
      }),
    }),
    route({
      method: 'GET',
      path: '/payments/history',
      summary: 'Transaction history in SOL, newest first; each movement once, in its final state',
      operation: WalletActivityListDocument,
      variables: { asset: fixed(SOL), movements: fixed(true) },
      paged: { connection: (d) => d.walletActivity, defaultLimit: 20 },
      shape: ({ walletActivity }) => ({
        transactions: walletActivity.nodes.map((entry) => ({
          id: entry.id,
          type: activityType(entry),
          status: movementStatus(entry),
          amount: sol(movementAmount(entry)),
          balance: sol(entry.availableAfter),
          tx: entry.reference,
          description: entry.memo,
          created_at: entry.createdAt,
        })),
        total: walletActivity.totalCount,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/health',
      summary: 'Server status, agent count and task count',
      operation: AgentCountDocument,
      public: true,
      // Tasks belong to their owners, so there is no public task count to give.
      shape: ({ agents }) => ({ status: 'ok', agents: agents.totalCount, tasks: null }),
    }),
  ],
};
