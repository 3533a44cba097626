/**
 * autx: the AUTX agent marketplace (003). Errors `{"detail": …}`, 422 for validation, money as
 * decimal strings. Its /auth/* and /api-keys/* rows join this table with the accounts operations.
 */
import {
  AgentByIdDocument,
  AgentCreateDocument,
  AgentListDocument,
  AuthLoginDocument,
  AuthMeDocument,
  AuthRefreshDocument,
  AuthRegisterDocument,
  MyApiKeyCreateDocument,
  MyApiKeyListDocument,
  MyApiKeyRevokeDocument,
  MyLedgerAccountsDocument,
  SessionByIdDocument,
  SessionListDocument,
  type AgentFieldsFragment,
  type ApiKeyFieldsFragment,
  type SignedInFieldsFragment,
  type SessionFieldsFragment,
} from '../generated/graphql';
import {
  commaList,
  decimalAmount,
  decimalsOf,
  fixed,
  fromBody,
  fromPath,
  integer,
  lower,
  minorToDecimal,
} from '../mapping';
import { route, type Dialect } from '../types';

const agent = (a: AgentFieldsFragment) => ({
  id: a.id,
  name: a.name,
  ticker: a.ticker,
  description: a.description,
  // Not stored by the agents subgraph yet; create accepts them and they read back empty.
  category: null,
  endpoint_url: null,
  manifest: null,
  service_price: minorToDecimal(a.priceMinor, decimalsOf(a.asset)),
  status: lower(a.status),
  auth_tier: 'jwt_default', // the documented default, and the only tier there is today
  // No proxy call or order exists yet, so no agent has served a request or earned anything.
  total_requests: 0,
  total_revenue: '0.00',
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

const session = (s: SessionFieldsFragment) => ({
  id: s.id,
  agent_ticker: s.agent?.ticker ?? null,
  status: lower(s.status),
  message_count: s.messageCount,
  consumed_usd: '0.00', // nothing is billed per message until chat billing exists
  started_at: s.startedAt,
  closed_at: s.endedAt,
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
        display_name: me.displayName,
        role: lower(me.role),
        created_at: me.createdAt,
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
      summary: 'List all agents',
      operation: AgentListDocument,
      paged: { connection: (d) => d.agents },
      shape: ({ agents }) => agents.nodes.map(agent),
    }),
    route({
      method: 'GET',
      path: '/agents/:id',
      summary: 'Get agent details',
      operation: AgentByIdDocument,
      variables: { id: fromPath('id') },
      shape: (d) => agent(d.agent),
    }),
    route({
      method: 'POST',
      path: '/agents/',
      summary: 'Create agent (scope: agents)',
      operation: AgentCreateDocument,
      status: 201,
      variables: {
        'input.name': fromBody('name'),
        'input.ticker': fromBody('ticker'),
        'input.description': fromBody('description'),
        'input.priceMinor': fromBody('service_price', decimalAmount(2), 'price per order in USD'),
        'input.asset': fixed('USD'),
      },
      shape: (d) => agent(d.createAgent),
    }),
    route({
      method: 'GET',
      path: '/credits/balance',
      summary: 'Get credit balance',
      operation: MyLedgerAccountsDocument,
      shape: ({ ledgerAccounts }) => {
        const usd = ledgerAccounts.nodes.find((a) => a.asset === 'USD');
        // Nothing reserves credits until chat sessions bill per message.
        return { balance_usd: minorToDecimal(usd?.balanceMinor ?? '0', 2), reserved_usd: '0.00' };
      },
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
  ],
};
