/**
 * Usage statistics of the caller's own turns (002's /api/stats/efficiency and /timeseries): one
 * aggregate each over a bounded window, read through the (owner_id, created_at) index.
 */
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { badInput, BigIntScalar, type EntityManager } from '../../lib';

/** The longest window a statistic reads: 90 days, or 168 hours for an hourly series. */
const MAX_PERIOD_HOURS = 90 * 24;
export const MAX_SERIES_HOURS = 168;

/** A period as 002 writes it (`24h`, `7d`, …) in hours; at most 90 days. */
export function periodHours(period: string): number {
  const match = /^([1-9]\d{0,3})([hd])$/.exec(period.trim());
  const hours = match ? Number(match[1]) * (match[2] === 'd' ? 24 : 1) : NaN;
  if (!(hours <= MAX_PERIOD_HOURS))
    throw badInput('period must be a number of hours or days such as 24h or 7d, at most 90d', {
      field: 'period',
    });
  return hours;
}

@ObjectType({ description: "One model's turns in a period: volume, price, speed and failures." })
export class ModelEfficiency {
  @Field()
  model!: string;

  @Field(() => Int)
  turns!: number;

  @Field(() => Int, { description: 'Turns that failed or were interrupted.' })
  failedTurns!: number;

  @Field(() => BigIntScalar)
  promptTokens!: bigint;

  @Field(() => BigIntScalar)
  completionTokens!: bigint;

  @Field(() => BigIntScalar, { description: 'Metered price in micro-USD.' })
  costMicroUsd!: bigint;

  @Field(() => Float, { nullable: true, description: 'Mean of the turns that recorded a latency.' })
  averageLatencyMs!: number | null;

  @Field(() => Float, { nullable: true })
  averageFirstTokenLatencyMs!: number | null;
}

@ObjectType({ description: 'Your turns of a period by model, most used first.' })
export class EfficiencyReport {
  @Field()
  period!: string;

  @Field({ description: 'Where the period starts.' })
  since!: Date;

  @Field(() => [ModelEfficiency])
  models!: ModelEfficiency[];
}

@ObjectType({ description: 'One hour of your usage.' })
export class UsageHour {
  @Field({ description: 'The start of the hour.' })
  hour!: Date;

  @Field(() => Int, { description: 'Turns started in the hour.' })
  requests!: number;

  @Field(() => Int, { description: 'Sessions opened in the hour.' })
  sessions!: number;

  @Field(() => BigIntScalar)
  promptTokens!: bigint;

  @Field(() => BigIntScalar)
  completionTokens!: bigint;

  @Field(() => BigIntScalar, { description: 'Metered price in micro-USD.' })
  costMicroUsd!: bigint;

  @Field(() => Float, { nullable: true, description: 'Median latency of its finished turns.' })
  latencyP50Ms!: number | null;
}

const nullableNumber = (value: string | number | null) => (value === null ? null : Number(value));

/** Efficiency per model of `ownerId`'s turns since `since`, optionally of one model. */
export async function modelEfficiency(
  em: EntityManager,
  ownerId: string,
  since: Date,
  model: string | undefined,
): Promise<ModelEfficiency[]> {
  const rows = await em.execute<Record<string, string | null>[]>(
    `select t."model",
            count(*) as "turns",
            count(*) filter (where t."status" in ('FAILED', 'INTERRUPTED')) as "failed",
            coalesce(sum(t."prompt_tokens"), 0) as "prompt",
            coalesce(sum(t."completion_tokens"), 0) as "completion",
            coalesce(sum(t."cost_micro_usd"), 0) as "cost",
            avg(t."latency_ms") as "latency",
            avg(t."first_token_latency_ms") as "first_token"
       from "sessions"."turn" t
      where t."owner_id" = ? and t."created_at" >= ? ${model === undefined ? '' : 'and t."model" = ?'}
      group by t."model"
      order by count(*) desc, t."model"
      limit 100`,
    model === undefined ? [ownerId, since] : [ownerId, since, model],
  );
  return rows.map((row) => ({
    model: row.model!,
    turns: Number(row.turns),
    failedTurns: Number(row.failed),
    promptTokens: BigInt(row.prompt!),
    completionTokens: BigInt(row.completion!),
    costMicroUsd: BigInt(row.cost!),
    averageLatencyMs: nullableNumber(row.latency),
    averageFirstTokenLatencyMs: nullableNumber(row.first_token),
  }));
}

/** The last `hours` whole hours of `ownerId`'s usage (the current one last), empty hours included. */
export async function usageSeries(em: EntityManager, ownerId: string, hours: number): Promise<UsageHour[]> {
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_SERIES_HOURS)
    throw badInput(`hours must be a whole number from 1 to ${MAX_SERIES_HOURS}`, { field: 'hours' });
  const rows = await em.execute<Record<string, string | Date | null>[]>(
    `with "hours" as (
       select generate_series(date_trunc('hour', now()) - (? - 1) * interval '1 hour',
                              date_trunc('hour', now()), interval '1 hour') as "hour"),
     "turns" as (
       select date_trunc('hour', t."created_at") as "hour",
              count(*) as "requests",
              sum(t."prompt_tokens") as "prompt",
              sum(t."completion_tokens") as "completion",
              sum(t."cost_micro_usd") as "cost",
              percentile_cont(0.5) within group (order by t."latency_ms") as "p50"
         from "sessions"."turn" t
        where t."owner_id" = ? and t."created_at" >= date_trunc('hour', now()) - (? - 1) * interval '1 hour'
        group by 1),
     "opened" as (
       select date_trunc('hour', s."started_at") as "hour", count(*) as "sessions"
         from "sessions"."session" s
        where s."owner_id" = ? and s."started_at" >= date_trunc('hour', now()) - (? - 1) * interval '1 hour'
        group by 1)
     select h."hour", coalesce(t."requests", 0) as "requests", coalesce(o."sessions", 0) as "sessions",
            coalesce(t."prompt", 0) as "prompt", coalesce(t."completion", 0) as "completion",
            coalesce(t."cost", 0) as "cost", t."p50"
       from "hours" h
       left join "turns" t on t."hour" = h."hour"
       left join "opened" o on o."hour" = h."hour"
      order by h."hour"`,
    [hours, ownerId, hours, ownerId, hours],
  );
  return rows.map((row) => ({
    hour: new Date(row.hour as Date),
    requests: Number(row.requests),
    sessions: Number(row.sessions),
    promptTokens: BigInt(row.prompt as string),
    completionTokens: BigInt(row.completion as string),
    costMicroUsd: BigInt(row.cost as string),
    latencyP50Ms: nullableNumber(row.p50 as string | null),
  }));
}
