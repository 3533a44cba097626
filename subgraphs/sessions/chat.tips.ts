import { Field, ObjectType } from 'type-graphql';
import { TurnStatus, type Turn } from './chat.entities';

/** Past these, a turn earns a tip; chosen for interactive chat, where users feel a 3 s wait. */
const SLOW_FIRST_TOKEN_MS = 3000;
const LONG_CONTEXT_MESSAGES = 40;
const LARGE_PROMPT_TOKENS = 8000;

@ObjectType({ description: 'A heuristic remark on one turn, with what to try.' })
export class TurnTip {
  @Field({ description: 'A stable name: SLOW_FIRST_TOKEN, LONG_CONTEXT, …' })
  code!: string;

  @Field({ description: '"info" or "warning".' })
  severity!: string;

  @Field()
  message!: string;
}

/** Pure rules over what a turn recorded; no LLM involved. */
export function tipsFor(turn: Turn, usageEstimated: boolean): TurnTip[] {
  const tips: TurnTip[] = [];
  const tip = (code: string, severity: 'info' | 'warning', message: string) =>
    tips.push({ code, severity, message });
  if (turn.status === TurnStatus.FAILED || turn.status === TurnStatus.INTERRUPTED)
    tip(
      'ANSWER_INCOMPLETE',
      'warning',
      `The answer ${turn.status === TurnStatus.FAILED ? 'failed' : 'stopped early'} (${turn.errorCode}): send the message again.`,
    );
  if (turn.firstTokenLatencyMs !== null && turn.firstTokenLatencyMs > SLOW_FIRST_TOKEN_MS)
    tip(
      'SLOW_FIRST_TOKEN',
      'warning',
      `The first token took ${turn.firstTokenLatencyMs} ms: a smaller model or a shorter context answers sooner.`,
    );
  if (turn.context.length > LONG_CONTEXT_MESSAGES)
    tip(
      'LONG_CONTEXT',
      'info',
      `${turn.context.length} messages were sent upstream: start a new session to cut cost and latency.`,
    );
  if (turn.promptTokens > LARGE_PROMPT_TOKENS)
    tip(
      'LARGE_PROMPT',
      'info',
      `The prompt had ${turn.promptTokens} tokens, most of the price of this turn.`,
    );
  const limit = turn.parameters.maxTokens;
  if (limit !== undefined && turn.completionTokens >= limit)
    tip('MAX_TOKENS_REACHED', 'warning', `The answer reached maxTokens (${limit}) and may be cut off.`);
  if (usageEstimated)
    tip('USAGE_ESTIMATED', 'info', 'The upstream reported no token usage: the counts are estimated.');
  return tips;
}
