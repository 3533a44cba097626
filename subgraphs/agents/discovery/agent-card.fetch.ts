/**
 * Fetches a peer's A2A agent card through the public-address guard and checks that it is one.
 * A base URL is tried at `/.well-known/agent-card.json` (A2A 1.0) and then `/.well-known/agent.json`
 * (0.x); a URL ending in `.json` is taken as the card itself.
 */
import { z } from 'zod';
import {
  AppError,
  badInput,
  inputTextProblem,
  loadConfig,
  NonPublicAddressError,
  OutboundError,
  parseAddressAllowlist,
  requestPublicHost,
  resolvePublicHost,
} from '../../../lib';

/** A card is metadata: far below an agent's answer limit. */
const CARD_MAX_BYTES = 64 * 1024;
export const PEER_URL_MAX = 2048;
const WELL_KNOWN = ['/.well-known/agent-card.json', '/.well-known/agent.json'];

const httpUrl = z.url({ protocol: /^https?$/ }).max(PEER_URL_MAX);
const text = (max: number) => z.string().max(max);

const skillSchema = z.object({
  id: text(200).min(1),
  name: text(200).min(1),
  description: text(4000),
  tags: z.array(text(100)).max(100),
});

/** The AgentCard fields every A2A version (0.3 and 1.0) requires, the endpoint in either form. */
const agentCardSchema = z
  .object({
    name: text(200).min(1),
    description: text(4000),
    version: text(100).min(1),
    url: httpUrl.optional(),
    supportedInterfaces: z
      .array(z.object({ url: httpUrl, protocolBinding: text(100) }))
      .min(1)
      .optional(),
    capabilities: z.record(z.string(), z.unknown()),
    defaultInputModes: z.array(text(200)).max(50),
    defaultOutputModes: z.array(text(200)).max(50),
    skills: z.array(skillSchema).max(500),
  })
  .refine((card) => card.url !== undefined || card.supportedInterfaces !== undefined, {
    message: 'an AgentCard names its endpoint as url (0.3) or supportedInterfaces (1.0)',
  });

export type AgentCard = z.infer<typeof agentCardSchema>;

export interface FetchedCard {
  cardUrl: string;
  /** The card as it was served, for keeping. */
  raw: Record<string, unknown>;
  card: AgentCard;
}

/** A peer URL the owner gave: http(s), bounded, and (now) resolving to a public address. */
export async function checkedPeerUrl(value: string, field = 'url'): Promise<URL> {
  const url = value.length <= PEER_URL_MAX && URL.canParse(value) ? new URL(value) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
    throw badInput(
      `${field} must be an http(s) URL without credentials, at most ${PEER_URL_MAX} characters`,
      {
        field,
      },
    );
  try {
    await resolvePublicHost(url, parseAddressAllowlist(loadConfig().AGENT_ENDPOINT_ALLOWLIST));
  } catch (error) {
    if (error instanceof NonPublicAddressError)
      throw badInput(`${field} refused: ${error.message}`, { field });
    throw error;
  }
  return url;
}

function candidates(url: URL): URL[] {
  if (url.pathname.endsWith('.json')) return [url];
  const base = url.pathname.replace(/\/+$/, '');
  return WELL_KNOWN.map((path) => new URL(`${url.origin}${base}${path}`));
}

/** Why a served body is no card, or the card. */
function parseCard(body: Buffer): { card?: AgentCard; raw?: Record<string, unknown>; problem?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'is not JSON' };
  }
  const unsafe = inputTextProblem(raw, 'card');
  if (unsafe) return { problem: unsafe.message };
  const parsed = agentCardSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `is not an A2A AgentCard: ${issue.path.join('.') || 'card'}: ${issue.message}` };
  }
  return { card: parsed.data, raw: raw as Record<string, unknown> };
}

/**
 * The peer's card, or an error: BAD_USER_INPUT for a URL the guard refuses, GATEWAY_TIMEOUT when
 * it did not answer in time, BAD_GATEWAY when nothing usable came back (saying what was wrong).
 */
export async function fetchAgentCard(peerUrl: string): Promise<FetchedCard> {
  const config = loadConfig();
  const url = await checkedPeerUrl(peerUrl);
  const allowlist = parseAddressAllowlist(config.AGENT_ENDPOINT_ALLOWLIST);
  const problems: string[] = [];
  for (const cardUrl of candidates(url)) {
    let answer;
    try {
      answer = await requestPublicHost(cardUrl, allowlist, {
        method: 'GET',
        headers: { accept: 'application/json' },
        timeoutMs: config.AGENT_CALL_TIMEOUT_MS,
        maxBytes: Math.min(CARD_MAX_BYTES, config.AGENT_RESPONSE_MAX_BYTES),
      });
    } catch (error) {
      if (error instanceof NonPublicAddressError)
        throw badInput(`url refused: ${error.message}`, { field: 'url' });
      if (error instanceof OutboundError) {
        if (error.reason === 'timeout')
          throw new AppError('GATEWAY_TIMEOUT', `${cardUrl.href} did not answer: ${error.message}`);
        problems.push(`${cardUrl.href}: ${error.message}`);
        continue;
      }
      throw error;
    }
    if (answer.status !== 200) {
      problems.push(`${cardUrl.href} answered ${answer.status}`);
      continue;
    }
    const { card, raw, problem } = parseCard(answer.body);
    if (card && raw) return { cardUrl: cardUrl.href, card, raw };
    problems.push(`${cardUrl.href} ${problem}`);
  }
  throw new AppError('BAD_GATEWAY', `no A2A agent card: ${problems.join('; ')}`);
}
