import {
  AppError,
  loadConfig,
  NonPublicAddressError,
  OutboundError,
  parseAddressAllowlist,
  requestPublicHost,
} from '../../../lib';
import type { Agent } from '../agent.entity';

/** What an agent's endpoint answered, as received. */
export interface AgentAnswer {
  status: number;
  contentType: string | null;
  body: Buffer;
  latencyMs: number;
}

/**
 * POSTs `body` to the agent's endpoint (the AUTX proxy and paid orders). The endpoint is a URL its
 * owner chose, so it goes through the same public-address guard as webhooks (private hosts only
 * when AGENT_ENDPOINT_ALLOWLIST names them), with AGENT_CALL_TIMEOUT_MS and
 * AGENT_RESPONSE_MAX_BYTES. Any HTTP status is an answer; no answer is BAD_GATEWAY (502), or
 * GATEWAY_TIMEOUT (504) when it took too long.
 */
export async function callAgent(
  agent: Agent,
  body: Buffer,
  headers: Record<string, string>,
): Promise<AgentAnswer> {
  const config = loadConfig();
  if (!agent.endpointUrl) throw new AppError('BAD_GATEWAY', `agent ${agent.ticker} has no endpoint_url`);
  const url = URL.canParse(agent.endpointUrl) ? new URL(agent.endpointUrl) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new AppError('BAD_GATEWAY', `agent ${agent.ticker} has no usable endpoint_url`);
  const started = performance.now();
  try {
    const answer = await requestPublicHost(url, parseAddressAllowlist(config.AGENT_ENDPOINT_ALLOWLIST), {
      headers,
      body,
      timeoutMs: config.AGENT_CALL_TIMEOUT_MS,
      maxBytes: config.AGENT_RESPONSE_MAX_BYTES,
    });
    return {
      status: answer.status,
      contentType: answer.headers['content-type'] ?? null,
      body: answer.body,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    if (error instanceof NonPublicAddressError)
      throw new AppError('BAD_GATEWAY', `agent ${agent.ticker} endpoint refused: ${error.message}`);
    if (error instanceof OutboundError)
      throw new AppError(
        error.reason === 'timeout' ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY',
        `agent ${agent.ticker} did not answer: ${error.message}`,
      );
    throw error;
  }
}
