import { CreateAgentDocument, CreateTaskDocument } from '../generated/graphql';
import type { Client } from './platform';

/** Each test file has a database of its own, so a counter keeps tickers unique. */
let sequence = 0;

export async function createAgent(owner: Client, name = 'Scout') {
  const { createAgent } = await owner.data(CreateAgentDocument, {
    input: { name, ticker: `AG${++sequence}`, priceMinor: '125' },
  });
  return createAgent;
}

export async function createTask(creator: Client, agentId?: string, title = 'Summarise a paper') {
  const { createTask } = await creator.data(CreateTaskDocument, {
    input: { agentId, title, rewardMinor: '5000000' },
  });
  return createTask;
}
