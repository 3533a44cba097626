import type { EntityManager } from '@mikro-orm/postgresql';
import { Arg, Ctx, Directive, Query, Resolver } from 'type-graphql';
import { AppError, sha256, type SubgraphContext } from '../../lib';
import { Account, Role } from './account.entity';
import { CredentialIdentity } from './account.types';
import { ApiKey, ApiKeyStatus } from './api-key.entity';
import { mintApiKey } from './auth.service';

/** `lastUsedAt` is informative; writing it at most once a minute keeps key checks read-only. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function routerOnly(ctx: SubgraphContext): void {
  if (ctx.caller.kind !== 'router') throw new AppError('FORBIDDEN', 'only the router asks this');
}

/** Questions only the router asks; `@inaccessible` keeps them out of the public API. */
@Resolver()
export class InternalResolver {
  @Directive('@inaccessible')
  @Query(() => CredentialIdentity, { nullable: true })
  async apiKeyIdentity(
    @Arg('key') key: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<CredentialIdentity | null> {
    routerOnly(ctx);
    const apiKey = await ctx.em.findOne(ApiKey, { keyHash: sha256(key) });
    if (!apiKey || apiKey.status !== ApiKeyStatus.ACTIVE) return null;
    const account = await ctx.get(Account, apiKey.accountId);
    if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await ctx.em.nativeUpdate(ApiKey, { id: apiKey.id }, { lastUsedAt: new Date() });
    }
    return { accountId: account.id, role: account.role, scopes: apiKey.scopes, apiKeyId: apiKey.id };
  }

  @Directive('@inaccessible')
  @Query(() => CredentialIdentity, { description: 'Who acts in open (single-user) mode: the first admin.' })
  async localOwnerIdentity(@Ctx() ctx: SubgraphContext): Promise<CredentialIdentity> {
    routerOnly(ctx);
    const owner = await ensureAdmin(ctx.em);
    return { accountId: owner.account.id, role: Role.ADMIN, scopes: ['*'], apiKeyId: null };
  }
}

/**
 * The first admin, created on first start. Returns its one-time API key when it was just
 * created, so the launcher can print it once.
 */
export async function ensureAdmin(em: EntityManager): Promise<{ account: Account; key?: string }> {
  const existing = await em.findOne(Account, { role: Role.ADMIN }, { orderBy: { id: 'asc' } });
  if (existing) return { account: existing };
  const account = em.create(Account, {
    email: 'admin@agentry.local',
    displayName: 'Administrator',
    role: Role.ADMIN,
    emailVerifiedAt: new Date(), // the operator's own account: nobody to send a link to
  });
  const { key } = mintApiKey(em, account.id, { name: 'first admin', scopes: ['*'], expiresAt: null });
  await em.flush();
  return { account, key };
}
