import { CreateAccountDocument, CreateAgentDocument, CreateTaskDocument } from '../generated/graphql';
import type { TestPlatform } from './platform';

/** Each test file has a database of its own, so a counter keeps emails and tickers unique. */
let sequence = 0;

export async function createAccount(t: TestPlatform, displayName = 'Ada') {
  const { createAccount } = await t.data(CreateAccountDocument, {
    input: { email: `user${++sequence}@example.com`, displayName },
  });
  return createAccount;
}

export async function createAgent(t: TestPlatform, ownerId: string, name = 'Scout') {
  const { createAgent } = await t.data(CreateAgentDocument, {
    input: { ownerId, name, ticker: `AG${++sequence}`, priceMinor: '125' },
  });
  return createAgent;
}

export async function createTask(
  t: TestPlatform,
  creatorId: string,
  agentId?: string,
  title = 'Summarise a paper',
) {
  const { createTask } = await t.data(CreateTaskDocument, {
    input: { creatorId, agentId, title, rewardMinor: '500' },
  });
  return createTask;
}
