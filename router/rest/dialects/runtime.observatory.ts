/**
 * 002's observatory and statistics, rows of the runtime dialect: usage per model and per hour,
 * heuristic insights and recommendations, analyses by the upstream LLM (503 without one, 502 when
 * its answer is not the expected JSON), turn audits, nickname backfill and Anthropic's model list.
 * Shapes follow Ironclad's handlers; errors are 002's `{"error": …}`.
 */
import {
  GatewayStatusDocument,
  ModelEfficiencyDocument,
  PlatformStatsDocument,
  RecommendationsDocument,
  RecommendationsGenerateDocument,
  SessionAnalyzeDocument,
  SessionInsightsDocument,
  ServiceLogsDocument,
  SessionNicknamesBackfillDocument,
  TurnAnalyzeDocument,
  TurnAuditDocument,
  TurnToolCallsDocument,
  UsageTimeseriesDocument,
  type LlmAnalysisFieldsFragment,
  type ModelEfficiencyFieldsFragment,
  type SessionInsightsFieldsFragment,
  type TurnAuditQuery,
} from '../generated/graphql';
import { fromBody, fromPath, fromQuery, integer, lower, minorToNumber, withDefault } from '../mapping';
import { route } from '../types';
import { toolCallRecord } from './runtime.tools';

const MICRO_USD_DECIMALS = 6;
const usd = (micro: string) => minorToNumber(micro, MICRO_USD_DECIMALS);

const efficiency = (m: ModelEfficiencyFieldsFragment) => ({
  model: m.model,
  total_turns: m.turns,
  failed_turns: m.failedTurns,
  failure_rate: m.turns ? m.failedTurns / m.turns : 0,
  tokens_in: Number(m.promptTokens),
  tokens_out: Number(m.completionTokens),
  cost: {
    total: usd(m.costMicroUsd),
    effective_per_turn: m.turns ? usd(m.costMicroUsd) / m.turns : 0,
    per_output_token: Number(m.completionTokens) ? usd(m.costMicroUsd) / Number(m.completionTokens) : 0,
  },
  avg_latency_ms: m.averageLatencyMs ?? null,
  avg_first_token_ms: m.averageFirstTokenLatencyMs ?? null,
});

const byModel = (models: ModelEfficiencyFieldsFragment[]) =>
  Object.fromEntries(models.map((m) => [m.model, efficiency(m)]));

/** What the upstream LLM answered, in Ironclad's analysis fields. */
const llmAnswer = (a: LlmAnalysisFieldsFragment) => ({
  analysis: { summary: a.summary, issues: a.issues, remediation: a.remediation, risk: a.risk },
  analysis_model: a.model,
  tokens_in: a.promptTokens,
  tokens_out: a.completionTokens,
});

const insights = (s: SessionInsightsFieldsFragment) =>
  s.insights.map((i) => ({ code: i.code, severity: i.severity, message: i.message }));

/** A model to ask instead of the default one (not in Ironclad, which always asks its routed model). */
const analysisModel = { model: fromBody('model', undefined, 'the model to ask; default: the default model') };

const period = (fallback: string) =>
  withDefault(fromQuery('period', undefined, 'hours or days, e.g. 24h or 7d (at most 90d)'), fallback);

/** The platform's decisions on a turn, as 002's policy audit lists them. */
function policyDecisions({ turn: t }: TurnAuditQuery) {
  const held = t.heldMicroUsd ? usd(t.heldMicroUsd) : 0;
  const charged = t.chargedMicroUsd ? usd(t.chargedMicroUsd) : 0;
  const credit: Record<string, string> = {
    UNBILLED: 'billing is off: metered, not charged',
    HELD: `${held} USD held while the answer runs`,
    POSTED: `${held} USD held, ${charged} USD charged, the rest released`,
    VOIDED: `${held} USD held and released: the answer ${lower(t.status)}`,
    LAPSED: `${held} USD held; the hold expired and nothing was charged`,
  };
  return [
    {
      id: `${t.id}:model`,
      tool_name: null,
      decision: 'allow',
      rule_name: 'model_selection',
      reason: `${t.model} on ${t.provider}: ${t.modelReason}`,
      created_at: t.createdAt,
    },
    {
      id: `${t.id}:credits`,
      tool_name: null,
      decision: t.settlement === 'UNBILLED' ? 'skip' : 'allow',
      rule_name: 'credit_hold',
      reason: credit[t.settlement] ?? lower(t.settlement),
      created_at: t.settledAt ?? t.createdAt,
    },
  ];
}

export const observatoryRoutes = [
  route({
    method: 'GET',
    path: '/api/logs',
    summary: 'The latest log lines of every service, newest first (a bounded store per process); admins only',
    operation: ServiceLogsDocument,
    variables: {
      level: fromQuery('level', undefined, 'this level and above: trace, debug, info, warn, error, fatal'),
      service: fromQuery('service', undefined, 'a subgraph name, or router'),
      requestId: fromQuery('request_id'),
      since: fromQuery('since', undefined, 'ISO time'),
      until: fromQuery('until', undefined, 'ISO time'),
      limit: withDefault(fromQuery('lines', integer(1, 1000), 'how many lines'), 100),
    },
    shape: ({ serviceLogs: logs }) => ({
      entries: logs.lines.map((line) => ({
        timestamp: line.time,
        level: line.level,
        message: line.message,
        target: line.service,
        request_id: line.requestId ?? null,
        error: line.error ?? null,
      })),
      unreachable: logs.unreachable,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/stats/cache',
    summary: "Hits and misses of every service's caches (the router's credential cache); admins only",
    operation: PlatformStatsDocument,
    shape: ({ platformStats: p }) => {
      const hits = p.caches.reduce((sum, c) => sum + c.hits, 0);
      const misses = p.caches.reduce((sum, c) => sum + c.misses, 0);
      const rate = (h: number, m: number) => (h + m ? (h / (h + m)) * 100 : 0);
      return {
        hits,
        misses,
        entries: p.caches.reduce((sum, c) => sum + c.entries, 0),
        hit_rate: rate(hits, misses),
        caches: Object.fromEntries(
          p.caches.map((c) => [
            c.name,
            { hits: c.hits, misses: c.misses, entries: c.entries, hit_rate: rate(c.hits, c.misses) },
          ]),
        ),
        unreachable: p.unreachable,
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/stats/capacity',
    summary: 'Use of every bounded resource (database pools, running answers) against its limit; admins only',
    operation: PlatformStatsDocument,
    shape: ({ platformStats: p }) => ({
      resources: Object.fromEntries(
        p.resources.map((r) => [
          r.name,
          {
            used: r.used,
            limit: r.limit ?? null,
            waiting: r.waiting,
            utilization: r.utilization ?? null,
            near_capacity: r.utilization != null && r.utilization >= 0.8,
          },
        ]),
      ),
      unreachable: p.unreachable,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/stats/efficiency',
    summary: 'Per-model efficiency of your turns: volume, tokens, cost, latency, failures',
    operation: ModelEfficiencyDocument,
    variables: { period: period('7d'), model: fromQuery('model', undefined, 'only this model') },
    shape: ({ modelEfficiency: r }) => {
      const total = r.models.reduce((sum, m) => sum + BigInt(m.costMicroUsd), 0n);
      const costliest = [...r.models].sort((a, b) =>
        Number(BigInt(b.costMicroUsd) - BigInt(a.costMicroUsd)),
      )[0];
      return {
        period: r.period,
        since: r.since,
        models: byModel(r.models),
        totals: {
          total_cost: usd(total.toString()),
          total_turns: r.models.reduce((sum, m) => sum + m.turns, 0),
          failed_turns: r.models.reduce((sum, m) => sum + m.failedTurns, 0),
          most_expensive_model: costliest?.model ?? null,
        },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/stats/timeseries',
    summary: 'Your costs, tokens, requests and sessions per hour over the last hours (default 24)',
    operation: UsageTimeseriesDocument,
    variables: { hours: withDefault(fromQuery('hours', integer(1, 168)), 24) },
    shape: ({ usageTimeseries: hours }) => ({
      hours: hours.length,
      labels: hours.map((h) => new Date(h.hour).toISOString().slice(11, 16)),
      starts: hours.map((h) => h.hour),
      series: {
        cost_per_hour: hours.map((h) => usd(h.costMicroUsd)),
        tokens_per_hour: hours.map((h) => Number(h.promptTokens) + Number(h.completionTokens)),
        requests_per_hour: hours.map((h) => h.requests),
        sessions_per_hour: hours.map((h) => h.sessions),
        latency_p50_ms: hours.map((h) => h.latencyP50Ms ?? 0),
      },
    }),
  }),
  route({
    method: 'POST',
    path: '/api/turns/:id/analyze',
    summary: "A turn's heuristic tips and the upstream LLM's analysis (503 without an upstream)",
    operation: TurnAnalyzeDocument,
    variables: { id: fromPath('id'), ...analysisModel },
    shape: ({ analyzeTurn: a }) => ({
      turn_id: a.turnId,
      status: 'complete',
      heuristic_tips: a.tips,
      ...llmAnswer(a.analysis),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/sessions/:id/insights',
    summary: "Heuristic insights over a session's latest 200 turns and their grades (no LLM)",
    operation: SessionInsightsDocument,
    variables: { id: fromPath('id') },
    shape: ({ sessionInsights: s }) => ({
      session_id: s.sessionId,
      insights: insights(s),
      insight_count: s.insights.length,
      turn_count: s.turnCount,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/sessions/:id/analyze',
    summary: "A session's insights and the upstream LLM's analysis (503 without an upstream)",
    operation: SessionAnalyzeDocument,
    variables: { id: fromPath('id'), ...analysisModel },
    shape: ({ analyzeSession: s }) => ({
      session_id: s.sessionId,
      status: 'complete',
      heuristic_insights: insights(s),
      turn_count: s.turnCount,
      ...llmAnswer(s.analysis!),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/recommendations',
    summary: 'Prioritised advice from your turns of a period (default 30d), without an LLM',
    operation: RecommendationsDocument,
    variables: { period: period('30d') },
    shape: ({ recommendations: r }) => ({
      period: r.period,
      profile: { models: byModel(r.models) },
      recommendations: r.recommendations,
      count: r.recommendations.length,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/recommendations/generate',
    summary: "The advice and the upstream LLM's deeper analysis of your usage (503 without an upstream)",
    operation: RecommendationsGenerateDocument,
    variables: { period: period('30d'), ...analysisModel },
    shape: ({ generateRecommendations: r }) => {
      const { analysis, ...answer } = llmAnswer(r.analysis!);
      return {
        status: 'complete',
        period: r.period,
        heuristic_recommendations: r.recommendations,
        deep_analysis: analysis,
        ...answer,
        profile: { models: byModel(r.models) },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/audit/policy/:turn_id',
    summary: "The platform's decisions on one of your turns: its model and its credit hold",
    operation: TurnAuditDocument,
    variables: { id: fromPath('turn_id') },
    shape: (data) => ({ turn_id: data.turn.id, decisions: policyDecisions(data) }),
  }),
  route({
    method: 'GET',
    path: '/api/audit/tools/:turn_id',
    summary: 'The tool calls the model made in one of your turns, in order',
    operation: TurnToolCallsDocument,
    variables: { id: fromPath('turn_id') },
    shape: ({ turn: t }) => ({ turn_id: t.id, tool_calls: t.toolCalls.map(toolCallRecord) }),
  }),
  route({
    method: 'POST',
    path: '/api/sessions/backfill-nicknames',
    summary: 'Name your sessions still called "New chat" after their first message (500 a call)',
    operation: SessionNicknamesBackfillDocument,
    shape: ({ backfillSessionNicknames }) => ({ backfilled: backfillSessionNicknames }),
  }),
  route({
    method: 'GET',
    path: '/anthropic/v1/models',
    summary: 'Anthropic-compatible model list: the default model and those the upstream lists',
    operation: GatewayStatusDocument,
    public: true,
    shape: ({ gatewayStatus: g }) => {
      const ids = [...new Set([g.model, ...g.models])];
      return {
        data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: g.probedAt })),
        has_more: false,
        first_id: ids[0] ?? null,
        last_id: ids.at(-1) ?? null,
      };
    },
  }),
];
