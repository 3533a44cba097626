/**
 * One whole answer of the upstream LLM, collected from its stream: what the observatory's analyses
 * and the setup interview ask for (they need the full text before they can check it).
 */
import { chatSettings } from './chat.providers';
import type { LlmProvider, SamplingParameters, UpstreamMessage } from './chat.upstream';

export interface CompleteAnswer {
  content: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Streams the answer of `provider` for `model` and returns it whole; throws UpstreamError when the
 * upstream fails, and `tooLong()` once the text passes `maxChars` (the request is then abandoned).
 */
export async function completeAnswer(
  provider: LlmProvider,
  model: string,
  messages: UpstreamMessage[],
  parameters: SamplingParameters & { maxChars: number; tooLong: () => Error },
): Promise<CompleteAnswer> {
  const { maxChars, tooLong, ...sampling } = parameters;
  const answer: CompleteAnswer = { content: '', promptTokens: 0, completionTokens: 0 };
  const signal = AbortSignal.timeout(chatSettings().maxTurnSilenceMs);
  for await (const chunk of provider.stream(model, messages, signal, sampling)) {
    if (chunk.kind === 'usage') {
      answer.promptTokens = chunk.promptTokens;
      answer.completionTokens = chunk.completionTokens;
    } else if (chunk.kind === 'token' && (answer.content += chunk.delta).length > maxChars) throw tooLong();
  }
  return answer;
}
