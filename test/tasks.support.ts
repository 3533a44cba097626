import pg from 'pg';
import {
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateTaskDocument,
  DeliverTaskDocument,
  LoginDocument,
  StartTaskDocument,
  type CreateTaskInput,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import type { Client, GraphQLResponse, TestPlatform } from './support/platform';

/**
 * For files that run the expiry job themselves: the tasks subgraph's own clock (every 5 s by default)
 * would expire an overdue task between two steps of a test. Call before the platform starts.
 */
export function holdTaskClock(): void {
  process.env.TASK_CLOCK_MS = '3600000';
}

/** Runs SQL on the test's own database, as an operator would: to move a timestamp back in time. */
export async function sql<T = Record<string, unknown>>(
  t: TestPlatform,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A new account promoted to ADMIN in the database, then signed in again so its token says so. */
export async function registerAdmin(t: TestPlatform): Promise<Client> {
  const user = await t.register('Admin');
  await sql(t, `update "accounts"."account" set "role" = 'ADMIN' where "id" = $1`, [user.id]);
  const { login } = await t.data(LoginDocument, { input: { email: user.email, password: user.password } });
  return t.client(login.accessToken);
}

/** The single error of a response that must have failed without data. */
export function errorOf(response: GraphQLResponse<unknown>) {
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors).toHaveLength(1);
  const [error] = response.body.errors!;
  return { message: error.message, ...(error.extensions ?? {}) } as {
    message: string;
    code: string;
    [key: string]: unknown;
  };
}

/** The happy path, in order; `taskIn` walks a new task along it. */
const HAPPY_PATH = ['OPEN', 'ACCEPTED', 'IN_PROGRESS', 'PENDING_VALIDATION', 'COMPLETED'] as const;

/** A new task of `creator`, taken along the happy path up to `status`. */
export async function taskIn(
  creator: Client,
  status: (typeof HAPPY_PATH)[number],
  input: Partial<CreateTaskInput> = {},
  /** The agent that claims it; a new one of the creator's when left out. */
  agentId?: string,
): Promise<string> {
  const { createTask } = await creator.data(CreateTaskDocument, {
    input: { title: `to ${status}`, ...input },
  });
  const { id } = createTask;
  const steps = [
    async () => creator.data(ClaimTaskDocument, { id, agentId: agentId ?? (await createAgent(creator)).id }),
    () => creator.data(StartTaskDocument, { id }),
    () => creator.data(DeliverTaskDocument, { id, input: { result: 'the result' } }),
    () => creator.data(ConfirmTaskDocument, { id }),
  ];
  for (const step of steps.slice(0, HAPPY_PATH.indexOf(status))) await step();
  return id;
}
