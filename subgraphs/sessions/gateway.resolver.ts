import { Arg, Ctx, Field, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { AppError, notFound, RequiresScopes, type SubgraphContext } from '../../lib';
import { BreakerState } from './chat.breaker';
import { chatSettings, gatewayProbe, GatewayMode } from './chat.providers';
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
}

const statusOf = (provider: LlmProvider): LlmProviderStatus => ({
  name: provider.name,
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
    if (ctx.me().role !== 'ADMIN')
      throw new AppError('FORBIDDEN', 'only an admin may reset a circuit breaker');
    const provider = chatSettings().providers.get(name);
    if (!provider) throw notFound('Provider', name);
    provider.breaker.reset();
    return statusOf(provider);
  }

  // Public, like 001's /api/gateway-status: it says only whether chat works, never who uses it.
  @Query(() => GatewayStatus, { description: 'Whether chat works and which features the platform offers.' })
  async gatewayStatus(): Promise<GatewayStatus> {
    const probe = await gatewayProbe();
    const chat = probe.mode !== GatewayMode.DISCONNECTED;
    return {
      status: probe.connected ? 'connected' : 'disconnected',
      mode: probe.mode,
      model: chatSettings().defaultModel,
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
