import { ArgsType, Field, Float, registerEnumType } from 'type-graphql';
import { badInput, BigIntScalar, MAX_PAGE_SIZE, PageArgs, type EntityManager, type Page } from '../../lib';
import { Agent, AgentStatus } from './agent.entity';

export enum AgentSort {
  NEW = 'NEW',
  RATING = 'RATING',
  PRICE = 'PRICE',
  TASKS = 'TASKS',
  REQUESTS = 'REQUESTS',
  REVENUE = 'REVENUE',
  SUCCESS_RATE = 'SUCCESS_RATE',
  VALUE = 'VALUE',
  YIELD = 'YIELD',
}
registerEnumType(AgentSort, {
  name: 'AgentSort',
  description: 'Orders of the marketplace; ties are broken newest first.',
  valuesConfig: {
    NEW: { description: 'Newest listing first.' },
    RATING: { description: 'Highest average rating first; unrated agents last.' },
    PRICE: { description: 'Cheapest first (compare within one asset).' },
    TASKS: { description: 'Most tasks completed first.' },
    REQUESTS: { description: 'Most requests (tasks assigned) first.' },
    REVENUE: { description: 'Highest total revenue first.' },
    SUCCESS_RATE: { description: 'Highest share of finished tasks completed first; agents with none last.' },
    VALUE: { description: 'Highest price × tasks completed first: the delivered work at its current price.' },
    YIELD: { description: 'Highest revenue per request first.' },
  },
});

/**
 * Each order as one SQL expression over the agent row, sorted in `direction` and then by id
 * descending; keyset pages compare (expression, id) so a page never skips or repeats a row.
 * Unrated agents sort as -1, after every real figure.
 */
const ORDERS: Record<AgentSort, { key: string; direction: 'asc' | 'desc' }> = {
  NEW: { key: '0::numeric', direction: 'desc' },
  RATING: { key: 'coalesce("rating", -1)', direction: 'desc' },
  PRICE: { key: '"price_minor"', direction: 'asc' },
  TASKS: { key: '"tasks_completed"', direction: 'desc' },
  REQUESTS: { key: '"total_requests"', direction: 'desc' },
  REVENUE: { key: '"total_revenue_minor"', direction: 'desc' },
  SUCCESS_RATE: { key: 'coalesce("success_rate", -1)', direction: 'desc' },
  VALUE: { key: '"price_minor"::numeric * "tasks_completed"', direction: 'desc' },
  YIELD: {
    key: 'case when "total_requests" = 0 then 0 else round("total_revenue_minor"::numeric / "total_requests", 6) end',
    direction: 'desc',
  },
};

@ArgsType()
export class AgentListArgs extends PageArgs {
  @Field(() => AgentSort, { defaultValue: AgentSort.NEW })
  sort: AgentSort = AgentSort.NEW;

  @Field(() => String, { nullable: true, description: 'Only this category (any case).' })
  category?: string | null;

  @Field(() => String, { nullable: true, description: 'Only agents with this tag (any case).' })
  tag?: string | null;

  @Field(() => BigIntScalar, {
    nullable: true,
    description: 'Only agents priced at most this (minor units).',
  })
  maxPriceMinor?: bigint | null;

  @Field(() => Float, { nullable: true, description: 'Only rated agents with at least this average rating.' })
  minRating?: number | null;

  @Field(() => String, { nullable: true, description: 'Only agents priced in this asset (USD, SOL, …).' })
  asset?: string | null;

  @Field(() => AgentStatus, { nullable: true })
  status?: AgentStatus | null;
}

export interface AgentFilter extends Omit<AgentListArgs, 'first' | 'after' | 'sort'> {
  ownerId?: string;
}

const cursorOf = (key: string, id: string) => Buffer.from(JSON.stringify([key, id])).toString('base64url');

function parseCursor(cursor: string): [string, string] {
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (
      typeof key === 'string' &&
      /^-?\d{1,40}(\.\d{1,20})?$/.test(key) &&
      typeof id === 'string' &&
      /^agt_[0-9a-z]{26}$/.test(id)
    )
      return [key, id];
  } catch {
    // answered below
  }
  throw badInput('after is not a cursor from this list', { argument: 'after' });
}

function conditions(filter: AgentFilter): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    sql.push(condition);
    params.push(...values);
  };
  add(`"status" <> 'DELETED'`);
  if (filter.category != null) add('lower("category") = lower(?)', filter.category.trim());
  if (filter.tag != null) add('? = any("tags")', filter.tag.trim().toLowerCase());
  if (filter.maxPriceMinor != null) add('"price_minor" <= ?', String(filter.maxPriceMinor));
  if (filter.minRating != null) {
    if (!Number.isFinite(filter.minRating) || filter.minRating < 0 || filter.minRating > 5)
      throw badInput('minRating must be 0 to 5', { argument: 'minRating' });
    add('"rating" >= ?', filter.minRating);
  }
  if (filter.asset != null) add('"asset" = ?', filter.asset);
  if (filter.status != null) add('"status" = ?', filter.status);
  if (filter.ownerId != null) add('"owner_id" = ?', filter.ownerId);
  return { sql, params };
}

/** One page of a filtered, sorted list: one statement for the rows and one for the count. */
export async function listAgents(
  em: EntityManager,
  page: PageArgs & { sort: AgentSort },
  filter: AgentFilter,
): Promise<Page<Agent>> {
  if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_PAGE_SIZE)
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, { argument: 'first' });
  const { key, direction } = ORDERS[page.sort];
  const where = conditions(filter);
  const pageWhere = { sql: [...where.sql], params: [...where.params] };
  if (page.after) {
    const [value, id] = parseCursor(page.after);
    pageWhere.sql.push(
      `(${key} ${direction === 'desc' ? '<' : '>'} ?::numeric or (${key} = ?::numeric and "id" < ?))`,
    );
    pageWhere.params.push(value, value, id);
  }
  const whereSql = (parts: string[]) => (parts.length ? `where ${parts.join(' and ')}` : '');
  const connection = em.getConnection();
  const [rows, [{ count }]] = await Promise.all([
    connection.execute<Record<string, unknown>[]>(
      `select *, (${key})::text as "sort_key" from "agents"."agent" ${whereSql(pageWhere.sql)}
       order by (${key}) ${direction}, "id" desc limit ?`,
      [...pageWhere.params, page.first + 1],
    ),
    connection.execute<{ count: string }[]>(
      `select count(*) from "agents"."agent" ${whereSql(where.sql)}`,
      where.params,
    ),
  ]);
  const kept = rows.slice(0, page.first);
  const last = kept.at(-1);
  return {
    nodes: kept.map(({ sort_key: _key, ...row }) => em.map(Agent, row)),
    totalCount: Number(count),
    pageInfo: {
      endCursor: last ? cursorOf(String(last.sort_key), String(last.id)) : null,
      hasNextPage: rows.length > page.first,
    },
  };
}
