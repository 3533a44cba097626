/**
 * autx: the AUTX agent marketplace (003). Errors `{"detail": …}`, 422 for validation, money as
 * decimal strings. Its /auth/* and /api-keys/* rows join this table with the accounts operations.
 */
import { createHash } from 'node:crypto';
import {
  AgentByIdDocument,
  AgentByTickerDocument,
  AgentCreateDocument,
  AgentListDocument,
  AgentProxyDocument,
  AgentUpdateDocument,
  OrderByIdDocument,
  OrderCreateDocument,
  OrderListDocument,
  type ChatOrderFieldsFragment,
  type OrderFieldsFragment,
  AuthLoginDocument,
  AuthMeDocument,
  AuthRefreshDocument,
  AuthRegisterDocument,
  AuthResendVerificationDocument,
  AuthVerifyEmailDocument,
  MyApiKeyCreateDocument,
  MyApiKeyListDocument,
  MyApiKeyRevokeDocument,
  DepositClaimDocument,
  DepositTestCreditsDocument,
  WalletActivityListDocument,
  WalletSummaryOfDocument,
  WithdrawalRequestDocument,
  type DepositFieldsFragment,
  ChatStreamDocument,
  SessionByIdDocument,
  SessionCloseDocument,
  SessionReceiptDocument,
  SessionListDocument,
  SessionStartDocument,
  TempoPricingDocument,
  type AgentFieldsFragment,
  type ApiKeyFieldsFragment,
  type ChatEventFieldsFragment,
  type SignedInFieldsFragment,
  type SessionFieldsFragment,
} from '../generated/graphql';
import { RestError } from '../errors';
import { receiptPdf } from '../receipt-pdf';
import { activityType, movementAmount, movementStatus } from '../wallet-shapes';
import {
  amountText,
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
  oneOf,
  rawBodyBase64,
  required,
  uploadedFiles,
  withDefault,
} from '../mapping';
import { route, socket, type Dialect } from '../types';

const agent = (a: AgentFieldsFragment) => ({
  id: a.id,
  name: a.name,
  ticker: a.ticker,
  description: a.description,
  category: a.category,
  service_price: amountText(a.priceMinor, a.asset),
  endpoint_url: a.endpointUrl,
  status: lower(a.status),
  auth_tier: a.authTier,
  manifest: a.manifest ?? null,
  // Tasks assigned to the agent and its paid orders (free proxy calls are not counted).
  total_requests: Number(a.totalRequests),
  total_revenue: amountText(a.totalRevenueMinor, a.asset),
});

/**
 * 003's sorts, each a figure the platform keeps (no agent token is issued, so the market words
 * stand for the nearest real figure): trending = most requests, mcap = price × tasks completed
 * (the delivered work at its price), apy = revenue per request, new = newest, revenue = most earned.
 */
const SORTS = { trending: 'REQUESTS', mcap: 'VALUE', apy: 'YIELD', new: 'NEW', revenue: 'REVENUE' } as const;

/** The fields a client may send on create and update. */
const agentFields = {
  'input.name': fromBody('name'),
  'input.description': fromBody('description'),
  'input.category': fromBody('category'),
  'input.endpointUrl': fromBody('endpoint_url'),
  'input.priceMinor': fromBody('service_price', decimalAmount(decimalsOf('USD')), 'price per order in USD'),
  'input.authTier': fromBody('auth_tier'),
  'input.manifest': fromBody('manifest'),
} as const;

/** Credits are USD in micro-dollars; 003 shows them as decimal strings ("9.95", "0.00171"). */
const CREDITS = 'USD';
const usd = (minor: string) => amountText(minor, CREDITS);

const deposit = (d: DepositFieldsFragment) => ({
  id: d.id,
  status: 'credited',
  tx_hash: d.txHash,
  from_address: d.fromAddress,
  amount_usd: usd(d.amountMinor),
  created_at: d.createdAt,
});

/** The token pair, OAuth-style, with the account it belongs to. */
const signedIn = (p: SignedInFieldsFragment) => ({
  access_token: p.accessToken,
  refresh_token: p.refreshToken,
  token_type: 'bearer',
  expires_in: p.expiresIn,
  user: { id: p.account.id, email: p.account.email },
});

const apiKey = (k: ApiKeyFieldsFragment) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes.join(','),
  status: lower(k.status),
  expires_at: k.expiresAt,
  last_used_at: k.lastUsedAt,
  created_at: k.createdAt,
});

const credentials = { 'input.email': fromBody('email'), 'input.password': fromBody('password') } as const;

/** Micro-USD (BigInt string) → USD with at least cents and no trailing zeros past them: "80048" → "0.080048". */
const usdOfMicro = (micro: string) => amountText(micro, 'USD');

const session = (s: SessionFieldsFragment) => ({
  id: s.id,
  agent_ticker: s.agent?.ticker ?? null,
  status: lower(s.status),
  message_count: s.messageCount,
  consumed_usd: usdOfMicro(s.costMicroUsd), // the metered price of every answer so far
  started_at: s.startedAt,
  closed_at: s.endedAt,
});

/** 003's order: the documented id, status, amount_paid, platform_fee, output_hash, output_text, completed_at, and what led to them. */
const order = (o: OrderFieldsFragment) => ({
  id: o.id,
  agent_id: o.agentId,
  status: lower(o.status),
  prompt: o.prompt,
  payment_method: o.paymentMethod,
  service_price: usd(o.priceMinor),
  amount_paid: usd(o.amountPaidMinor),
  platform_fee: usd(o.platformFeeMinor),
  output_hash: o.outputHash,
  output_text: o.outputText,
  error: o.error,
  latency_ms: o.latencyMs,
  created_at: o.createdAt,
  completed_at: o.completedAt,
});

const TURN_ORDER_STATUS: Record<string, string> = {
  RUNNING: 'processing',
  COMPLETE: 'completed',
  INTERRUPTED: 'failed',
  FAILED: 'failed',
};

/**
 * A chat answer read as an order (the socket's `done {order_id}` is its turn id): what it was charged
 * is what was paid, and all of it is the platform's (a chat turn pays PLATFORM_REVENUE, no agent owner).
 */
function turnOrder(t: ChatOrderFieldsFragment) {
  const charged = usdOfMicro(t.chargedMicroUsd ?? '0');
  const output = t.status === 'COMPLETE' ? (t.assistantMessage?.content ?? '') : null;
  return {
    id: t.id,
    agent_id: t.session.agent?.id ?? null,
    status: TURN_ORDER_STATUS[t.status] ?? lower(t.status),
    prompt: t.userMessage.content,
    payment_method: 'credits',
    service_price: charged,
    amount_paid: charged,
    platform_fee: charged,
    output_hash: output === null ? null : `sha256:${createHash('sha256').update(output).digest('hex')}`,
    output_text: output,
    error: null,
    latency_ms: null,
    created_at: t.createdAt,
    completed_at: t.finishedAt,
  };
}

/** A chat answer's id (sessions' turns), which the socket names as an order. */
const isTurnId = (id: string | undefined) => id?.startsWith('turn_') ?? false;

const errorFrame = (code: string, message: string) => ({ type: 'error', code: lower(code), message });

/** One event of a streamed answer as the chat frame it becomes; STARTED has none. */
function chatFrame(e: ChatEventFieldsFragment) {
  if (e.kind === 'TOKEN') return { type: 'chunk', data: e.delta ?? '' };
  // The answer is AUTX's order: its turn id is the order id, readable at GET /orders/{id}.
  if (e.kind === 'COMPLETED') return { type: 'done', order_id: e.turnId };
  if (e.kind === 'ERROR')
    return errorFrame(e.error?.code ?? 'UPSTREAM_ERROR', e.error?.message ?? 'the answer failed');
  return null;
}

const optionalText = (frame: Record<string, unknown>, name: string) => {
  const value = frame[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new RestError('BAD_USER_INPUT', `${name} must be a string`);
};

/**
 * 003's WebSocket chat with one agent. `{type:"auth", token}` (an API key or access token with the
 * orders scope) opens a session for the agent and is answered `{type:"session", session_id,
 * credits_reserved}`; then each `{type:"message", content}` (`text` is taken too, and `model` picks
 * a model) streams `chunk {data}` frames, `done {order_id}` and `billing {amount_charged}`. A
 * message sent before `billing` is refused as `busy`. Errors are `{type:"error", code, message}`; a
 * failed answer leaves the socket open. Leaving (or DELETE /sessions/{id}) closes the session,
 * cancelling an unfinished answer: it is metered, and with billing on its hold is voided, so the
 * session's consumed_usd counts only what was charged.
 */
const chat = socket({
  path: '/ws/agent/:ticker',
  summary:
    'Chat with an agent: send {"type":"auth","token":…} first, then {"type":"message","content":…} frames',
  greeting: { type: 'session', session_id: 'ses_…', credits_reserved: '0.00' },
  operation: ChatStreamDocument,
  frame: (d) => chatFrame(d.chatStream),
  dialogue: {
    credential: (first) =>
      first.type === 'auth' && typeof first.token === 'string' ? first.token : undefined,
    async open({ params, run }) {
      const { agentByTicker: agent } = await run(AgentByTickerDocument, { ticker: params.ticker });
      const { startSession } = await run(SessionStartDocument, {
        input: { agentId: agent.id, title: `Chat with ${agent.name}` },
      });
      // Each message holds the most its answer may cost before it goes upstream: this is that
      // hold for a short message (longer ones hold more); 0.00 when billing is off.
      const { meteringPricing } = await run(TempoPricingDocument, {});
      return {
        state: { sessionId: startSession.id },
        greeting: {
          type: 'session',
          session_id: startSession.id,
          credits_reserved: usdOfMicro(meteringPricing.messageHoldMicroUsd),
        },
      };
    },
    on: {
      async message(frame, { state, stream, send }) {
        const content = optionalText(frame, 'content') ?? optionalText(frame, 'text');
        if (!content?.trim()) throw new RestError('BAD_USER_INPUT', 'a message needs its content');
        const last = await stream({
          input: { sessionId: state.sessionId, content, model: optionalText(frame, 'model') },
        });
        // What the answer was charged follows it (its price when complete; a failed or cancelled one
        // is refunded). With billing off nothing is charged and this is the metered price.
        const usage = last?.chatStream.usage;
        if (usage)
          send({ type: 'billing', amount_charged: usdOfMicro(usage.chargedMicroUsd ?? usage.costMicroUsd) });
      },
    },
    close: ({ state, run }) => run(SessionCloseDocument, { id: state.sessionId }),
    error: ({ code, message }) => errorFrame(code, message),
  },
});

export const autx: Dialect = {
  name: 'autx',
  title: 'AUTX agent marketplace',
  references: ['003'],
  mountSetting: 'REST_MOUNT_AUTX',
  owns: [''],
  errors: { invalidInput: 422, wrongContentType: 400, body: ({ message }) => ({ detail: message }) },
  routes: [
    route({
      method: 'POST',
      path: '/auth/register',
      summary: 'Create account',
      operation: AuthRegisterDocument,
      status: 201,
      variables: credentials,
      shape: (d) => signedIn(d.register),
    }),
    route({
      method: 'POST',
      path: '/auth/login',
      summary: 'Sign in',
      operation: AuthLoginDocument,
      variables: credentials,
      shape: (d) => signedIn(d.login),
    }),
    route({
      method: 'POST',
      path: '/auth/refresh',
      summary: 'Refresh token pair',
      operation: AuthRefreshDocument,
      variables: { refreshToken: fromBody('refresh_token') },
      shape: (d) => signedIn(d.refreshToken),
    }),
    route({
      method: 'GET',
      path: '/auth/me',
      summary: 'Get current user',
      operation: AuthMeDocument,
      shape: ({ me }) => ({
        id: me.id,
        email: me.email,
        email_verified: me.emailVerified,
        display_name: me.displayName,
        role: lower(me.role),
        created_at: me.createdAt,
      }),
    }),
    route({
      method: 'GET',
      path: '/auth/verify',
      summary:
        'Verify your email address: the link mailed at sign-up (token valid EMAIL_VERIFICATION_TTL_HOURS; ' +
        'a changed address voids it); not in 003, which marks routes "verified email" without naming one',
      operation: AuthVerifyEmailDocument,
      variables: { token: required(fromQuery('token')) },
      shape: ({ verifyEmail: a }) => ({ id: a.id, email: a.email, email_verified: a.emailVerified }),
    }),
    route({
      method: 'POST',
      path: '/auth/verify/resend',
      summary: 'Send a new verification link to your address (one a minute, else 429; 409 when verified)',
      operation: AuthResendVerificationDocument,
      shape: ({ sendVerificationEmail: a }) => ({
        sent: true,
        email: a.email,
        email_verified: a.emailVerified,
      }),
    }),
    route({
      method: 'POST',
      path: '/api-keys/',
      summary: 'Create API key (signed-in session only; the key is shown once)',
      operation: MyApiKeyCreateDocument,
      status: 201,
      variables: {
        'input.name': fromBody('name'),
        'input.scopes': fromBody('scopes', commaList, 'comma-separated scopes, e.g. "proxy,orders"'),
        'input.expiresInDays': fromBody('expires_in_days', integer(1, 3650)),
      },
      shape: (d) => ({ ...apiKey(d.createApiKey.apiKey), key: d.createApiKey.key }),
    }),
    route({
      method: 'GET',
      path: '/api-keys/',
      summary: 'List your API keys',
      operation: MyApiKeyListDocument,
      paged: { connection: (d) => d.apiKeys },
      shape: ({ apiKeys }) => apiKeys.nodes.map(apiKey),
    }),
    route({
      method: 'DELETE',
      path: '/api-keys/:id',
      summary: 'Revoke an API key',
      operation: MyApiKeyRevokeDocument,
      variables: { id: fromPath('id') },
      shape: (d) => apiKey(d.revokeApiKey),
    }),
    route({
      method: 'GET',
      path: '/agents/',
      summary:
        'List agents priced in USD. sort: trending = most requests, mcap = price × tasks completed, ' +
        'apy = revenue per request, new = newest (default), revenue = most earned; ties newest first',
      operation: AgentListDocument,
      variables: {
        sort: withDefault(fromQuery('sort', oneOf(SORTS)), 'new'),
        category: fromQuery('category'),
        asset: fixed('USD'),
      },
      paged: { connection: (d) => d.agents },
      shape: ({ agents }) => agents.nodes.map(agent),
    }),
    route({
      method: 'GET',
      path: '/agents/:id',
      summary: 'Get agent details',
      operation: AgentByIdDocument,
      variables: { id: fromPath('id'), asset: fixed('USD') },
      shape: (d) => agent(d.agent),
    }),
    route({
      method: 'POST',
      path: '/agents/',
      summary: 'Create agent (scope: agents)',
      operation: AgentCreateDocument,
      status: 201,
      variables: { ...agentFields, 'input.ticker': fromBody('ticker'), 'input.asset': fixed('USD') },
      shape: (d) => agent(d.createAgent),
    }),
    route({
      method: 'PATCH',
      path: '/agents/:id',
      summary: 'Update your agent: any subset of the create fields but ticker (scope: agents)',
      operation: AgentUpdateDocument,
      variables: {
        id: fromPath('id'),
        asset: fixed('USD'),
        ...agentFields,
        'input.priceAsset': derived(({ body }) => (body.service_price === undefined ? undefined : 'USD')),
      },
      shape: (d) => agent(d.updateAgent),
    }),
    route({
      method: 'POST',
      path: '/proxy/:ticker_or_id',
      summary:
        'Route a request through an agent (free; scope: proxy): the body goes to its endpoint unchanged and its answer comes back as sent, with x-autx-request-id, x-autx-latency-ms and x-autx-agent; 502 when the agent cannot be reached, 504 when it is too slow',
      operation: AgentProxyDocument,
      rawBody: true,
      variables: {
        agent: fromPath('ticker_or_id'),
        bodyBase64: rawBodyBase64(),
        contentType: fromHeader('content-type'),
      },
      raw: ({ proxyAgent: p }) => ({
        status: p.status,
        headers: {
          ...(p.contentType ? { 'content-type': p.contentType } : {}),
          'x-autx-request-id': p.requestId,
          'x-autx-latency-ms': String(p.latencyMs),
          'x-autx-agent': p.ticker,
        },
        body: Buffer.from(p.bodyBase64, 'base64'),
      }),
    }),
    route({
      method: 'POST',
      path: '/orders/',
      summary:
        "Create a paid order (scope: orders): the agent's service_price is held from your credits (402 Insufficient credits when short), the agent is called with {prompt}, and the order answers completed (paid) or failed (refunded); payment_method is metadata only",
      operation: OrderCreateDocument,
      status: 201,
      variables: {
        'input.agentId': required(fromBody('agent_id')),
        'input.prompt': required(fromBody('prompt')),
        'input.paymentMethod': fromBody(
          'payment_method',
          undefined,
          'credits (default), stripe or usdc: metadata only',
        ),
      },
      shape: (d) => order(d.createOrder),
    }),
    route({
      method: 'POST',
      path: '/orders/multipart',
      summary:
        'Create a paid order with files (multipart/form-data: agent_id, prompt, payment_method, files), settled like POST /orders/; the files go to the agent with the prompt as {"files": [{name, content_type, data_base64}]}; 413 over the body limit (1 MiB here, below the documented 100 MB)',
      operation: OrderCreateDocument,
      status: 201,
      multipart: true,
      variables: {
        'input.agentId': required(fromBody('agent_id')),
        'input.prompt': required(fromBody('prompt')),
        'input.paymentMethod': fromBody('payment_method'),
        'input.files': fromBody('files', uploadedFiles, 'one or more files'),
      },
      shape: (d) => order(d.createOrder),
    }),
    route({
      method: 'GET',
      path: '/orders/',
      summary: 'List your orders, newest first (scope: orders)',
      operation: OrderListDocument,
      paged: { connection: (d) => d.orders },
      shape: ({ orders }) => orders.nodes.map(order),
    }),
    route({
      method: 'GET',
      path: '/orders/:id',
      summary: 'Get order result (scope: orders)',
      operation: OrderByIdDocument,
      variables: {
        id: fromPath('id'),
        isTurn: derived(({ params }) => isTurnId(params.id)),
        isOrder: derived(({ params }) => !isTurnId(params.id)),
      },
      shape: (d) => (d.turn ? turnOrder(d.turn) : order(d.order!)),
    }),
    route({
      method: 'GET',
      path: '/credits/balance',
      summary: 'Get credit balance (any scope): spendable and reserved by holds',
      operation: WalletSummaryOfDocument,
      variables: { asset: fixed(CREDITS) },
      shape: ({ walletSummary: s }) => ({
        balance_usd: usd(s.availableMinor),
        reserved_usd: usd(s.reservedMinor),
      }),
    }),
    route({
      method: 'POST',
      path: '/credits/deposit',
      summary: 'Confirm an on-chain USDC deposit to the credit vault (once per tx_hash; $5 minimum)',
      operation: DepositClaimDocument,
      variables: { txHash: required(fromBody('tx_hash', undefined, '0x and 64 hex digits')) },
      shape: ({ claimDeposit }) => deposit(claimDeposit),
    }),
    route({
      method: 'POST',
      path: '/credits/deposit-test',
      summary: 'Inject test credits without an on-chain tx (only with ENABLE_TEST_CREDITS=true, else 403)',
      operation: DepositTestCreditsDocument,
      variables: { amountMinor: required(fromBody('amount', decimalAmount(6), 'USD, e.g. "10.00"')) },
      shape: ({ depositTestCredits }) => deposit(depositTestCredits),
    }),
    route({
      method: 'POST',
      path: '/credits/withdraw',
      summary: 'Withdraw credits back to your wallet as USDC (one per hour: 429 with Retry-After)',
      operation: WithdrawalRequestDocument,
      variables: {
        'input.asset': fixed(CREDITS),
        'input.amountMinor': required(fromBody('amount', decimalAmount(6), 'USD, e.g. "5.00"')),
        'input.destination': fromBody(
          'to',
          undefined,
          'EVM address; default: the sender of your last deposit',
        ),
      },
      shape: ({ requestWithdrawal: w }) => ({
        id: w.id,
        status: lower(w.status),
        amount_usd: usd(w.amountMinor),
        fee_usd: usd(w.feeMinor),
        to: w.destination,
        tx_hash: w.tx,
        failure_reason: w.failureReason,
        created_at: w.createdAt,
        completed_at: w.completedAt,
      }),
    }),
    route({
      method: 'GET',
      path: '/credits/transactions',
      summary:
        'Credit ledger: deposits, withdrawals and per-message charges, newest first; each movement once, in its final state',
      operation: WalletActivityListDocument,
      variables: { asset: fixed(CREDITS), movements: fixed(true) },
      paged: { connection: (d) => d.walletActivity, defaultLimit: 50 },
      shape: ({ walletActivity }) =>
        walletActivity.nodes.map((entry) => ({
          id: entry.id,
          type: activityType(entry),
          status: movementStatus(entry),
          amount_usd: usd(movementAmount(entry)),
          balance_usd: usd(entry.availableAfter),
          reference: entry.reference,
          description: entry.memo,
          created_at: entry.createdAt,
        })),
    }),
    route({
      method: 'GET',
      path: '/sessions',
      summary: 'List your sessions',
      operation: SessionListDocument,
      paged: { connection: (d) => d.sessions },
      shape: ({ sessions }) => sessions.nodes.map(session),
    }),
    route({
      method: 'GET',
      path: '/sessions/:id',
      summary: 'Get session details',
      operation: SessionByIdDocument,
      variables: { id: fromPath('id') },
      shape: (d) => session(d.session),
    }),
    route({
      method: 'DELETE',
      path: '/sessions/:id',
      summary: 'Close session (204; 200 with the session when it was already closed)',
      operation: SessionCloseDocument,
      variables: { id: fromPath('id') },
      status: (d) => (d.closeSession.alreadyClosed ? 200 : 204),
      shape: (d) => session(d.closeSession.session),
    }),
    route({
      method: 'GET',
      path: '/sessions/:id/receipt',
      summary: 'The PDF receipt of a closed session (400 while it is active, 422 when it consumed nothing)',
      operation: SessionReceiptDocument,
      variables: { id: fromPath('id') },
      failure: ({ session: s }) =>
        s.status === 'ACTIVE'
          ? { status: 400, code: 'BAD_REQUEST', message: 'the session is still active; close it first' }
          : BigInt(s.costMicroUsd) === 0n
            ? {
                status: 422,
                code: 'BAD_USER_INPUT',
                message: 'the session consumed nothing, so it has no receipt',
              }
            : undefined,
      raw: async ({ session: s }) => ({
        status: 200,
        headers: {
          'content-type': 'application/pdf',
          'content-disposition': `attachment; filename="receipt-${s.id}.pdf"`,
        },
        body: await receiptPdf({
          sessionId: s.id,
          title: s.title,
          agent: s.agent ? `${s.agent.name} (${s.agent.ticker})` : null,
          startedAt: s.startedAt,
          closedAt: s.endedAt ?? s.startedAt,
          lines: s.turns.nodes.map((turn) => ({
            when: turn.createdAt,
            model: turn.model,
            tokens: turn.promptTokens + turn.completionTokens,
            amount: usdOfMicro(turn.costMicroUsd),
          })),
          moreLines: s.turns.totalCount - s.turns.nodes.length,
          total: usdOfMicro(s.costMicroUsd),
          currency: 'USD',
        }),
      }),
    }),
  ],
  sockets: [chat],
};
