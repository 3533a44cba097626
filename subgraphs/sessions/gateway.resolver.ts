import { Arg, Ctx, Field, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { AppError, badInput, notFound, RequiresScopes, type SubgraphContext } from '../../lib';
import { BreakerState } from './chat.breaker';
import {
  chatSettings,
  gatewayProbe,
  GatewayMode,
  loadProviderKeys,
  modelPatternsOf,
  PROVIDER_KEYS_TOPIC,
  providerFor,
  sealKey,
} from './chat.providers';
import type { LlmProvider } from './chat.upstream';

registerEnumType(BreakerState, {
  name: 'CircuitState',
  description: 'A circuit breaker: CLOSED lets calls through.',
});
registerEnumType(GatewayMode, { name: 'GatewayMode' });

@ObjectType({ description: 'An upstream LLM provider and its circuit breaker (its key is never shown).' })
class LlmProviderStatus {
  @Field()
  name!: string;

  @Field(() => BreakerState)
  state!: BreakerState;

  @Field(() => Int)
  consecutiveFailures!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Date, { nullable: true, description: 'When an open breaker lets a trial call through.' })
  retryAt!: Date | null;

  @Field(() => [String], { description: 'The model patterns it answers (`*` matches anything).' })
  models!: string[];

  @Field({ description: 'Whether calls carry an API key (its value is never shown).' })
  keySet!: boolean;

  @Field(() => String, {
    nullable: true,
    description: '"api" when set through setProviderKey, "config" from the environment.',
  })
  keySource!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Only from removeProviderKey: whether a key set through the API was there to remove.',
  })
  keyRemoved?: boolean | null;
}

const statusOf = (provider: LlmProvider): LlmProviderStatus => ({
  name: provider.name,
  models: modelPatternsOf(provider.name),
  keySet: provider.hasKey,
  keySource: provider.keySource,
  state: provider.breaker.state,
  consecutiveFailures: provider.breaker.consecutiveFailures,
  lastError: provider.breaker.lastError,
  retryAt: provider.breaker.state === BreakerState.CLOSED ? null : provider.breaker.retryAt,
});

@ObjectType({ description: 'What the platform offers, as 001 reports at /api/gateway-status.' })
class GatewayFeatures {
  @Field()
  sessions!: boolean;

  @Field()
  streaming!: boolean;

  @Field()
  chatStream!: boolean;

  @Field()
  memory!: boolean;

  @Field()
  tasks!: boolean;

  @Field()
  wallet!: boolean;

  @Field()
  mcpServers!: boolean;

  @Field()
  tempoBilling!: boolean;
}

@ObjectType({ description: 'The upstream LLM as last probed (GET /models, at most every 30 s).' })
class GatewayStatus {
  @Field({ description: '"connected" or "disconnected".' })
  status!: string;

  @Field(() => GatewayMode)
  mode!: GatewayMode;

  @Field({ description: 'The default model.' })
  model!: string;

  @Field(() => [String], { description: 'The models the upstream lists.' })
  models!: string[];

  @Field()
  version!: string;

  @Field(() => GatewayFeatures)
  features!: GatewayFeatures;

  @Field()
  probedAt!: Date;

  @Field(() => String, { nullable: true, description: 'The provider that answers the default model.' })
  defaultProvider!: string | null;

  @Field(() => Int, { description: 'Answers streaming right now on the whole platform (a count only).' })
  activeTurns!: number;
}

function adminProvider(ctx: SubgraphContext, name: string, action: string): LlmProvider {
  if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', `only an admin may ${action}`);
  const provider = chatSettings().providers.get(name);
  if (!provider) throw notFound('Provider', name);
  return provider;
}

/** Reloads the keys here at once, and on every other replica through the pub/sub. */
async function keysChanged(ctx: SubgraphContext, provider: LlmProvider): Promise<LlmProviderStatus> {
  await loadProviderKeys(ctx.em, ctx.jwtSecret, ctx.log);
  await ctx.pubsub.publish(PROVIDER_KEYS_TOPIC, { provider: provider.name });
  return statusOf(provider);
}

@Resolver()
export class GatewayResolver {
  @RequiresScopes('orders')
  @Query(() => [LlmProviderStatus], { description: 'The upstream LLM providers and their circuit breakers.' })
  llmProviders(): LlmProviderStatus[] {
    return [...chatSettings().providers.values()].map(statusOf);
  }

  @RequiresScopes('orders')
  @Mutation(() => LlmProviderStatus, { description: "Closes a provider's circuit breaker. Admins only." })
  resetCircuitBreaker(@Arg('provider') name: string, @Ctx() ctx: SubgraphContext): LlmProviderStatus {
    const provider = adminProvider(ctx, name, 'reset a circuit breaker');
    provider.breaker.reset();
    return statusOf(provider);
  }

  @RequiresScopes('orders')
  @Mutation(() => LlmProviderStatus, {
    description: "Sets a provider's API key, stored encrypted and never shown again. Admins only.",
  })
  async setProviderKey(
    @Arg('provider') name: string,
    @Arg('apiKey') apiKey: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LlmProviderStatus> {
    const provider = adminProvider(ctx, name, 'set a provider key');
    const key = apiKey.trim();
    if (!key || key.length > 4096 || /\s/.test(key))
      throw badInput('apiKey must be 1 to 4096 characters without spaces', { field: 'apiKey' });
    await ctx.em.execute(
      `insert into "sessions"."provider_key" ("provider", "ciphertext", "updated_by") values (?, ?, ?)
       on conflict ("provider") do update set "ciphertext" = excluded."ciphertext",
         "updated_by" = excluded."updated_by", "updated_at" = now()`,
      [provider.name, sealKey(key, ctx.jwtSecret), ctx.me().accountId],
    );
    return keysChanged(ctx, provider);
  }

  @RequiresScopes('orders')
  @Mutation(() => LlmProviderStatus, {
    description:
      'Removes the key set through the API; the configured one (if any) is used again. Admins only.',
  })
  async removeProviderKey(
    @Arg('provider') name: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LlmProviderStatus> {
    const provider = adminProvider(ctx, name, 'remove a provider key');
    const removed = await ctx.em.execute<{ provider: string }[]>(
      `delete from "sessions"."provider_key" where "provider" = ? returning "provider"`,
      [provider.name],
    );
    return { ...(await keysChanged(ctx, provider)), keyRemoved: removed.length > 0 };
  }

  // Public, like 001's /api/gateway-status: it says only whether chat works, never who uses it.
  @Query(() => GatewayStatus, { description: 'Whether chat works and which features the platform offers.' })
  async gatewayStatus(@Ctx() ctx: SubgraphContext): Promise<GatewayStatus> {
    const [probe, [running]] = await Promise.all([
      gatewayProbe(),
      ctx.em.execute<{ count: string }[]>(
        `select count(*) as "count" from "sessions"."turn" where "status" = 'RUNNING'`,
      ),
    ]);
    const chat = probe.mode !== GatewayMode.DISCONNECTED;
    const model = chatSettings().defaultModel;
    return {
      status: probe.connected ? 'connected' : 'disconnected',
      mode: probe.mode,
      model,
      defaultProvider: providerFor(model)?.name ?? null,
      activeTurns: Number(running.count),
      models: probe.models,
      version: probe.version,
      features: {
        sessions: true,
        streaming: chat,
        chatStream: chat,
        memory: true,
        tasks: true,
        wallet: true,
        mcpServers: false,
        tempoBilling: true,
      },
      probedAt: probe.probedAt,
    };
  }
}
