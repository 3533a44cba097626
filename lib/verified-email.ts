import { loadConfig } from './config';
import { AppError } from './errors';
import type { SubgraphContext } from './subgraph';

/**
 * 003's "verified email" capabilities (listing an agent, minting an API key, claiming a deposit)
 * need a proven address unless the operator switched the requirement off (REQUIRE_VERIFIED_EMAIL,
 * read on each use). The accounts subgraph is asked as the caller, so a link opened a moment ago
 * counts at once (a flag in the signed identity would wait for the next access token).
 */
export async function requireVerifiedEmail(
  ctx: SubgraphContext,
  action: string,
  // The accounts subgraph reads its own table instead of asking itself over HTTP.
  verified: () => Promise<boolean> = () => askAccounts(ctx),
): Promise<void> {
  if (loadConfig().REQUIRE_VERIFIED_EMAIL !== 'true' || ctx.caller.kind !== 'account') return;
  if (!(await verified()))
    throw new AppError(
      'FORBIDDEN',
      `verify your email address to ${action}: open the link sent to it, or ask for a new one ` +
        '(mutation sendVerificationEmail, AUTX POST /auth/verify/resend)',
      { reason: 'EMAIL_NOT_VERIFIED' },
    );
}

async function askAccounts(ctx: SubgraphContext): Promise<boolean> {
  const { me } = await ctx.peers.request<{ me: { emailVerified: boolean | null } }>(
    'accounts',
    'query EmailVerified { me { emailVerified } }',
    {},
    { identity: ctx.identityHeader, requestId: ctx.requestId },
  );
  return me.emailVerified === true;
}
