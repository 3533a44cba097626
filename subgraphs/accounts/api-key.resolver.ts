import { Arg, Args, Ctx, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import {
  AppError,
  Authenticated,
  Connection,
  PageArgs,
  paginate,
  requireVerifiedEmail,
  type Identity,
  updateReturning,
  type SubgraphContext,
} from '../../lib';
import { Account } from './account.entity';
import { CreateApiKeyInput, validateCreateApiKey } from './account.input';
import { CreatedApiKey } from './account.types';
import { ApiKey } from './api-key.entity';
import { mintApiKey } from './auth.service';

@ObjectType()
class ApiKeyConnection extends Connection(ApiKey) {}

/** Keys are managed from a signed-in session only: a leaked key cannot mint or list others. */
function signedIn(ctx: SubgraphContext): Identity {
  const identity = ctx.me();
  if (identity.via === 'api_key')
    throw new AppError('FORBIDDEN', 'API keys are managed with a signed-in session, not a key');
  return identity;
}

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Authenticated()
  @Mutation(() => CreatedApiKey, { description: 'Create an API key; the full key is in this answer only.' })
  async createApiKey(
    @Arg('input') input: CreateApiKeyInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<CreatedApiKey> {
    const fields = validateCreateApiKey(input);
    const accountId = signedIn(ctx).accountId;
    await requireVerifiedEmail(
      ctx,
      'create an API key',
      async () => (await ctx.em.findOne(Account, accountId))?.emailVerifiedAt != null,
    );
    const created = mintApiKey(ctx.em, accountId, fields);
    await ctx.em.flush();
    return created;
  }

  @Authenticated()
  @Query(() => ApiKeyConnection, { description: 'Your API keys, newest first, without their secrets.' })
  apiKeys(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<ApiKeyConnection> {
    return paginate(ctx.em, ApiKey, { accountId: signedIn(ctx).accountId }, page);
  }

  @Authenticated()
  @Mutation(() => ApiKey, { description: 'Revoke one of your API keys; revoking twice is harmless.' })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<ApiKey> {
    signedIn(ctx);
    const apiKey = await ctx.getOwned(ApiKey, id, (key) => key.accountId);
    // Conditional, so of concurrent revokes one stamps the time and every one answers that time.
    const [revoked] = await updateReturning(
      ctx.em,
      ApiKey,
      { id, revokedAt: null },
      { revokedAt: new Date() },
    );
    return revoked ?? (await ctx.em.refresh(apiKey)) ?? apiKey;
  }
}
