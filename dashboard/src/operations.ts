/**
 * Every operation the dashboard sends, as plain strings (the bundle carries no GraphQL parser).
 * test/dashboard.operations.test.ts validates each against schema/api.graphql.
 */
export const LOGIN = /* GraphQL */ `
  mutation DashboardLogin($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`;

export const REFRESH = /* GraphQL */ `
  mutation DashboardRefresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`;

export const ME = /* GraphQL */ `
  query DashboardMe {
    me {
      id
      displayName
      role
    }
  }
`;

export const STATUS = /* GraphQL */ `
  query DashboardStatus {
    llmProviders {
      name
      state
      consecutiveFailures
      lastError
      retryAt
    }
    gatewayStatus {
      status
      model
      activeTurns
    }
  }
`;

export const ADMIN_FIGURES = /* GraphQL */ `
  query DashboardAdminFigures {
    taskStats {
      total
      queueDepth
      webhookQueueDepth
    }
    ledgerThroughput {
      transfersPerSecond
      capped
    }
  }
`;

const CHAT_EVENT = `sessionId turnId seq kind delta at usage { totalTokens } error { code message }`;

export const CHAT_EVENTS = /* GraphQL */ `
  subscription DashboardChatEvents($sessionId: ID, $afterSeq: Int) {
    chatEvents(sessionId: $sessionId, afterSeq: $afterSeq) { ${CHAT_EVENT} }
  }
`;

export const CHAT_STREAM = /* GraphQL */ `
  subscription DashboardChatStream($input: ChatInput!) {
    chatStream(input: $input) { ${CHAT_EVENT} }
  }
`;

export const TASK_EVENTS = /* GraphQL */ `
  subscription DashboardTaskEvents($after: String) {
    taskEvents(after: $after) {
      seq
      transition
      previousStatus
      at
      task {
        id
        title
        status
        progress
      }
    }
  }
`;

const LEDGER_ENTRY = `id transferId asset kind side postedDelta postedAfter decimals category memo createdAt`;

export const WALLET_EVENTS = /* GraphQL */ `
  subscription DashboardWalletEvents {
    walletEvents { ${LEDGER_ENTRY} }
  }
`;

/** What a reconnect may have missed: walletEvents takes no cursor, so the ledger is read again. */
export const LEDGER_SINCE = /* GraphQL */ `
  query DashboardLedgerSince($since: DateTimeISO) {
    ledgerEntries(first: 100, since: $since) {
      nodes { ${LEDGER_ENTRY} }
    }
  }
`;

const MEMORY_ENTRY = `id tier category content source createdAt`;

export const MEMORY_EVENTS = /* GraphQL */ `
  subscription DashboardMemoryEvents {
    memoryEvents {
      kind
      at
      entry { ${MEMORY_ENTRY} }
    }
  }
`;

/** memoryEvents takes no cursor either: what was stored since is read again after a reconnect. */
export const MEMORIES_SINCE = /* GraphQL */ `
  query DashboardMemoriesSince($since: DateTimeISO) {
    memories(first: 100, filter: { since: $since }) {
      nodes { ${MEMORY_ENTRY} }
    }
  }
`;
