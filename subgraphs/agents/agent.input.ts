import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType, Int } from 'type-graphql';
import { badInput, BigIntScalar, MAX_AMOUNT_MINOR } from '../../lib';

export const AGENT_LIMITS = {
  name: 100,
  description: 2000,
  category: 50,
  tags: 10,
  tag: 32,
  url: 2048,
  manifestBytes: 16_384,
  maxConcurrent: 1000,
  /** The business maximum of any amount (10^15 minor units), far inside PostgreSQL's bigint. */
  priceMinor: MAX_AMOUNT_MINOR,
} as const;

@InputType()
export class CreateAgentInput {
  @Field()
  name!: string;

  @Field()
  ticker!: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => [String], { nullable: true, description: `Up to ${AGENT_LIMITS.tags} tags.` })
  tags?: string[] | null;

  @Field(() => String, { nullable: true, description: 'An http or https URL.' })
  endpointUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'A Solana (base58) or EVM (0x…) address.' })
  wallet?: string | null;

  @Field(() => BigIntScalar, { defaultValue: 0n })
  priceMinor: bigint = 0n;

  @Field({ defaultValue: 'USD' })
  asset: string = 'USD';

  @Field({ nullable: true, description: 'Default "jwt_default".' })
  authTier?: string;

  @Field(() => GraphQLJSON, { nullable: true })
  manifest?: unknown;

  @Field(() => Int, { nullable: true })
  maxConcurrent?: number | null;
}

/** Any subset of a listing's own fields; null clears an optional one. Ticker and asset stay. */
@InputType()
export class UpdateAgentInput {
  @Field({ nullable: true })
  name?: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => String, { nullable: true })
  endpointUrl?: string | null;

  @Field(() => String, { nullable: true })
  wallet?: string | null;

  @Field(() => BigIntScalar, { nullable: true })
  priceMinor?: bigint;

  @Field(() => String, {
    nullable: true,
    description: "The asset priceMinor is counted in, checked against the agent's (which never changes).",
  })
  priceAsset?: string | null;

  @Field({ nullable: true })
  authTier?: string;

  @Field(() => GraphQLJSON, { nullable: true })
  manifest?: unknown;

  @Field(() => Int, { nullable: true })
  maxConcurrent?: number | null;
}

function text(value: string, field: string, max: number, min = 0): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max)
    throw badInput(`${field} must be ${min} to ${max} characters`, { field });
  return trimmed;
}

const optionalText = (value: string | null, field: string, max: number) =>
  value === null ? null : text(value, field, max) || null;

function tagsOf(tags: string[] | null): string[] {
  if (tags === null) return [];
  if (tags.length > AGENT_LIMITS.tags * 2)
    throw badInput(`tags holds at most ${AGENT_LIMITS.tags} tags`, { field: 'tags' });
  const unique = [...new Set(tags.map((tag) => text(tag, 'tags', AGENT_LIMITS.tag, 1).toLowerCase()))];
  if (unique.length > AGENT_LIMITS.tags)
    throw badInput(`tags holds at most ${AGENT_LIMITS.tags} tags`, { field: 'tags' });
  return unique;
}

/** Stored for the agent proxy, which checks the address it resolves to (lib/public-address.ts) per call. */
function endpointUrlOf(value: string | null): string | null {
  if (value === null || !value.trim()) return null;
  const raw = text(value, 'endpointUrl', AGENT_LIMITS.url);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput('endpointUrl must be an absolute http or https URL', { field: 'endpointUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badInput('endpointUrl must be an http or https URL', { field: 'endpointUrl' });
  if (url.username || url.password)
    throw badInput('endpointUrl must not carry credentials', { field: 'endpointUrl' });
  return url.href;
}

const SOLANA_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function walletOf(value: string | null): string | null {
  if (value === null || !value.trim()) return null;
  const address = value.trim();
  if (!SOLANA_ADDRESS.test(address) && !EVM_ADDRESS.test(address))
    throw badInput('wallet must be a Solana (base58) or EVM (0x…) address', { field: 'wallet' });
  return address;
}

function priceOf(value: bigint): bigint {
  if (value < 0n) throw badInput('priceMinor cannot be negative', { field: 'priceMinor' });
  if (value > AGENT_LIMITS.priceMinor) throw badInput('priceMinor is too large', { field: 'priceMinor' });
  return value;
}

function authTierOf(value: string): string {
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(value))
    throw badInput('authTier must be a lower-case word, e.g. jwt_default', { field: 'authTier' });
  return value;
}

function manifestOf(value: unknown): unknown {
  if (value === null) return null;
  if (Buffer.byteLength(JSON.stringify(value)) > AGENT_LIMITS.manifestBytes)
    throw badInput(`manifest must be at most ${AGENT_LIMITS.manifestBytes} bytes of JSON`, {
      field: 'manifest',
    });
  return value;
}

function maxConcurrentOf(value: number | null): number | null {
  if (value !== null && (value < 1 || value > AGENT_LIMITS.maxConcurrent))
    throw badInput(`maxConcurrent must be 1 to ${AGENT_LIMITS.maxConcurrent}`, { field: 'maxConcurrent' });
  return value;
}

/** Each field's check, shared by create and update; an absent field is left as it is. */
const CHECKS = {
  name: (value: string) => text(value, 'name', AGENT_LIMITS.name, 1),
  description: (value: string) => text(value, 'description', AGENT_LIMITS.description),
  category: (value: string | null) => optionalText(value, 'category', AGENT_LIMITS.category),
  tags: tagsOf,
  endpointUrl: endpointUrlOf,
  wallet: walletOf,
  priceMinor: priceOf,
  authTier: authTierOf,
  manifest: manifestOf,
  maxConcurrent: maxConcurrentOf,
};

type Checked = { -readonly [K in keyof typeof CHECKS]?: ReturnType<(typeof CHECKS)[K]> };

export function validateAgentChanges(input: UpdateAgentInput): Checked {
  const checked: Record<string, unknown> = {};
  for (const [field, check] of Object.entries(CHECKS) as [keyof typeof CHECKS, (v: unknown) => unknown][]) {
    const value = input[field];
    if (value === undefined) continue;
    if (
      value === null &&
      (field === 'name' || field === 'description' || field === 'priceMinor' || field === 'authTier')
    )
      throw badInput(`${field} cannot be null`, { field });
    checked[field] = check(value);
  }
  return checked as Checked;
}

export function validateCreateAgent(input: CreateAgentInput) {
  const ticker = input.ticker.trim().toUpperCase();
  if (!/^[A-Z0-9]{2,10}$/.test(ticker))
    throw badInput('ticker must be 2 to 10 letters or digits', { field: 'ticker' });
  if (!/^[A-Z0-9]{2,12}$/.test(input.asset))
    throw badInput('asset must be an upper-case code', { field: 'asset' });
  const { ticker: _ticker, asset, ...fields } = input;
  return { ...validateAgentChanges(fields), name: CHECKS.name(input.name), ticker, asset };
}
