/**
 * 002's observatory over your own turns: efficiency and hourly usage, heuristic insights and
 * recommendations (no LLM needed), and deeper analyses asked of the upstream LLM.
 */
import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { RequiresScopes, type SubgraphContext } from '../../lib';
import { Feedback, Turn, UsageRecord } from './chat.entities';
import { tipsFor, TurnTip } from './chat.tips';
import {
  analyse,
  LlmAnalysis,
  Recommendation,
  recommendationsFor,
  sessionInsights,
} from './observatory.analysis';
import {
  EfficiencyReport,
  ModelEfficiency,
  modelEfficiency,
  periodHours,
  usageSeries,
  UsageHour,
} from './observatory.stats';
import { ownedSession } from './session.resolver';

/** The latest turns of a session that its insights read. */
const INSIGHT_TURNS = 200;
/** Sessions renamed by one backfill call; call again for more. */
const BACKFILL_BATCH = 500;
const NICKNAME_CHARS = 80;

@ObjectType({ description: "A turn's heuristic tips and the upstream LLM's analysis of them." })
class TurnAnalysis {
  @Field(() => ID)
  turnId!: string;

  @Field(() => [TurnTip])
  tips!: TurnTip[];

  @Field(() => LlmAnalysis)
  analysis!: LlmAnalysis;
}

@ObjectType({ description: "Heuristic insights over a session's latest turns and grades." })
class SessionInsights {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => Int, { description: 'Turns read (the latest 200 at most).' })
  turnCount!: number;

  @Field(() => [TurnTip])
  insights!: TurnTip[];

  @Field(() => LlmAnalysis, { nullable: true, description: 'Only from analyzeSession.' })
  analysis?: LlmAnalysis;
}

@ObjectType({ description: 'Advice drawn from your turns of a period.' })
class Recommendations {
  @Field()
  period!: string;

  @Field(() => [ModelEfficiency], { description: 'The usage the advice reads.' })
  models!: ModelEfficiency[];

  @Field(() => [Recommendation])
  recommendations!: Recommendation[];

  @Field(() => LlmAnalysis, { nullable: true, description: 'Only from generateRecommendations.' })
  analysis?: LlmAnalysis;
}

const since = (hours: number) => new Date(Date.now() - hours * 3_600_000);

async function insightsOf(ctx: SubgraphContext, id: string): Promise<SessionInsights> {
  const session = await ownedSession(ctx, id);
  const latest = await ctx.em.find(
    Turn,
    { sessionId: session.id },
    { orderBy: { id: 'desc' }, limit: INSIGHT_TURNS },
  );
  const turns = latest.reverse();
  const ids = turns.map((t) => t.id);
  const [usage, feedback] = await Promise.all([
    ctx.em.find(UsageRecord, { turnId: { $in: ids }, estimated: true }, { fields: ['turnId'] }),
    ctx.em.find(Feedback, { turnId: { $in: ids } }, { fields: ['grade'] }),
  ]);
  const estimated = new Set(usage.map((u) => u.turnId));
  // Each kind of turn tip once, with how many turns earned it.
  const byCode = new Map<string, { tip: TurnTip; turns: number }>();
  for (const turn of turns)
    for (const tip of tipsFor(turn, estimated.has(turn.id))) {
      const seen = byCode.get(tip.code);
      if (seen) seen.turns++;
      else byCode.set(tip.code, { tip, turns: 1 });
    }
  const turnTips = [...byCode.values()].map(({ tip, turns: n }) => ({
    ...tip,
    message: n > 1 ? `${n} turns: ${tip.message}` : tip.message,
  }));
  return {
    sessionId: session.id,
    turnCount: turns.length,
    insights: [
      ...sessionInsights(
        turns,
        feedback.map((f) => f.grade),
      ),
      ...turnTips,
    ],
  };
}

async function recommendationsOf(ctx: SubgraphContext, period: string): Promise<Recommendations> {
  const models = await modelEfficiency(ctx.em, ctx.me().accountId, since(periodHours(period)), undefined);
  return { period, models, recommendations: recommendationsFor(models) };
}

@Resolver()
export class ObservatoryResolver {
  @RequiresScopes('orders')
  @Query(() => EfficiencyReport, { description: 'Your turns of a period (default 7d) by model.' })
  async modelEfficiency(
    @Arg('period', { defaultValue: '7d', description: 'Hours or days: 24h, 7d, … (at most 90d).' })
    period: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<EfficiencyReport> {
    const start = since(periodHours(period));
    const models = await modelEfficiency(ctx.em, ctx.me().accountId, start, model ?? undefined);
    return { period, since: start, models };
  }

  @RequiresScopes('orders')
  @Query(() => [UsageHour], {
    description: 'Your usage of the last hours (default 24, at most 168), oldest first.',
  })
  usageTimeseries(
    @Arg('hours', () => Int, { defaultValue: 24 }) hours: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<UsageHour[]> {
    return usageSeries(ctx.em, ctx.me().accountId, hours);
  }

  @RequiresScopes('orders')
  @Query(() => SessionInsights, { description: 'Heuristic insights over one of your sessions; no LLM.' })
  sessionInsights(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<SessionInsights> {
    return insightsOf(ctx, id);
  }

  @RequiresScopes('orders')
  @Mutation(() => SessionInsights, {
    description: "A session's insights and the upstream LLM's analysis of them (503 without an upstream).",
  })
  async analyzeSession(
    @Arg('id', () => ID) id: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<SessionInsights> {
    const insights = await insightsOf(ctx, id);
    const analysis = await analyse(
      'Analyse this chat session: its bottlenecks, their likely causes and a prioritised remedy.',
      { turnCount: insights.turnCount, insights: insights.insights },
      model ?? undefined,
    );
    return { ...insights, analysis };
  }

  @RequiresScopes('orders')
  @Mutation(() => TurnAnalysis, {
    description: "A turn's tips and the upstream LLM's analysis of it (503 without an upstream).",
  })
  async analyzeTurn(
    @Arg('id', () => ID) id: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<TurnAnalysis> {
    const turn = await ctx.getOwned(Turn, id, (row) => row.ownerId);
    const usage = await ctx.em.findOne(UsageRecord, { turnId: turn.id });
    const tips = tipsFor(turn, usage?.estimated ?? false);
    const analysis = await analyse(
      'Analyse this agent turn: its issues, their likely causes and the top remediation steps.',
      {
        status: turn.status,
        model: turn.model,
        promptTokens: turn.promptTokens,
        completionTokens: turn.completionTokens,
        contextMessages: turn.context.length,
        latencyMs: turn.latencyMs,
        firstTokenLatencyMs: turn.firstTokenLatencyMs,
        errorCode: turn.errorCode,
        tips,
      },
      model ?? undefined,
    );
    return { turnId: turn.id, tips, analysis };
  }

  @RequiresScopes('orders')
  @Query(() => Recommendations, {
    description: 'Heuristic advice from your turns of a period (default 30d).',
  })
  recommendations(
    @Arg('period', { defaultValue: '30d' }) period: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Recommendations> {
    return recommendationsOf(ctx, period);
  }

  @RequiresScopes('orders')
  @Mutation(() => Recommendations, {
    description: "The advice and the upstream LLM's deeper analysis of your usage (503 without an upstream).",
  })
  async generateRecommendations(
    @Arg('period', { defaultValue: '30d' }) period: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Recommendations> {
    const found = await recommendationsOf(ctx, period);
    const analysis = await analyse(
      "Analyse this account's LLM usage per model and advise how to spend less and wait less.",
      {
        period,
        models: found.models.map((m) => ({
          ...m,
          promptTokens: Number(m.promptTokens),
          completionTokens: Number(m.completionTokens),
          costMicroUsd: Number(m.costMicroUsd),
        })),
        recommendations: found.recommendations,
      },
      model ?? undefined,
    );
    return { ...found, analysis };
  }

  @RequiresScopes('orders')
  @Mutation(() => Int, {
    description:
      'Names your sessions still called "New chat" after their first message (500 a call); answers how many.',
  })
  async backfillSessionNicknames(@Ctx() ctx: SubgraphContext): Promise<number> {
    // One statement: the first user message of each unnamed session becomes its title.
    const renamed = await ctx.em.execute<{ id: string }[]>(
      `update "sessions"."session" s
          set "title" = left(regexp_replace(btrim(m."content"), '\\s+', ' ', 'g'), ?)
         from (select distinct on (m."session_id") m."session_id", m."content"
                 from "sessions"."message" m
                 join "sessions"."session" u on u."id" = m."session_id"
                where u."owner_id" = ? and u."deleted_at" is null and u."title" = 'New chat'
                  and m."role" = 'USER' and btrim(m."content") <> ''
                order by m."session_id", m."id"
                limit ?) m
        where s."id" = m."session_id"
        returning s."id"`,
      [NICKNAME_CHARS, ctx.me().accountId, BACKFILL_BATCH],
    );
    return renamed.length;
  }
}
