import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AppError,
  Authenticated,
  conflict,
  Connection,
  flushUnique,
  hashPassword,
  PageArgs,
  paginate,
  RequiresScopes,
  verifyPassword,
  type SubgraphContext,
} from '../../lib';
import { Account, Role } from './account.entity';
import { LoginInput, normaliseEmail, RegisterInput, validateRegister } from './account.input';
import { AuthPayload } from './account.types';
import { issueSession, justSignedIn, spendRefreshToken } from './auth.service';
import {
  claimVerificationSend,
  RESEND_INTERVAL_SECONDS,
  sendVerification,
  verifyEmailToken,
} from './email-verification';

@ObjectType()
class AccountConnection extends Connection(Account) {}

/** Verifying against this when the email is unknown keeps both failures equally slow. */
const DECOY_HASH = hashPassword('not a real password');

@Resolver(() => Account)
export class AccountResolver {
  @Authenticated()
  @Query(() => Account, { description: 'The calling account.' })
  me(@Ctx() ctx: SubgraphContext): Promise<Account> {
    return ctx.get(Account, ctx.me().accountId);
  }

  @Authenticated()
  @Query(() => Account, { description: 'One account by id: your own, or any for admins.' })
  account(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Account> {
    return ctx.getOwned(Account, id, (account) => account.id);
  }

  @RequiresScopes('admin')
  @Query(() => AccountConnection, { description: 'All accounts, newest first (admins).' })
  accounts(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<AccountConnection> {
    if (ctx.me().role !== Role.ADMIN) throw new AppError('FORBIDDEN', 'only admins list accounts');
    return paginate(ctx.em, Account, {}, page);
  }

  @Mutation(() => AuthPayload, { description: 'Create an account and sign in; an email is used once.' })
  async register(@Arg('input') raw: RegisterInput, @Ctx() ctx: SubgraphContext): Promise<AuthPayload> {
    const { email, password, displayName } = validateRegister(raw);
    const account = ctx.em.create(Account, {
      email,
      displayName,
      passwordHash: await hashPassword(password),
      verificationSentAt: new Date(),
    });
    const session = issueSession(ctx.em, account, ctx.jwtSecret);
    await flushUnique(ctx.em, `email ${email} is already registered`, { field: 'email' });
    // Signing up does not wait for the mail server; a lost link is sent again on request.
    sendVerification(account, ctx.jwtSecret, ctx.log).catch((error: unknown) =>
      ctx.log.warn({ err: error, accountId: account.id }, 'verification email not sent'),
    );
    return session;
  }

  @Authenticated()
  @Mutation(() => Account, {
    description: `Send a new link verifying your email address (one every ${RESEND_INTERVAL_SECONDS} seconds).`,
  })
  async sendVerificationEmail(@Ctx() ctx: SubgraphContext): Promise<Account> {
    const account = await ctx.get(Account, ctx.me().accountId);
    if (account.emailVerifiedAt) throw conflict('your email address is already verified');
    if (!(await claimVerificationSend(ctx.em, account.id)))
      throw new AppError(
        'RATE_LIMITED',
        `a verification link was sent less than ${RESEND_INTERVAL_SECONDS} seconds ago; try again later`,
        { retryAfter: RESEND_INTERVAL_SECONDS },
      );
    try {
      await sendVerification(account, ctx.jwtSecret, ctx.log);
    } catch (error) {
      ctx.log.warn({ err: error, accountId: account.id }, 'verification email not sent');
      throw new AppError('UPSTREAM_UNAVAILABLE', 'the mail server did not take the message; try again later');
    }
    return account;
  }

  @Mutation(() => Account, {
    description:
      'Prove an email address with the token of its verification link (the link is the credential).',
  })
  async verifyEmail(@Arg('token') token: string, @Ctx() ctx: SubgraphContext): Promise<Account> {
    const account = await verifyEmailToken(ctx.em, token, ctx.jwtSecret);
    justSignedIn.add(account); // holding the link proves the address: its answer may show it
    return account;
  }

  @Mutation(() => AuthPayload, { description: 'Sign in with email and password.' })
  async login(@Arg('input') input: LoginInput, @Ctx() ctx: SubgraphContext): Promise<AuthPayload> {
    const account = await ctx.em.findOne(Account, { email: normaliseEmail(input.email) });
    const valid = await verifyPassword(input.password, account?.passwordHash ?? (await DECOY_HASH));
    if (!account?.passwordHash || !valid) throw new AppError('UNAUTHENTICATED', 'wrong email or password');
    const session = issueSession(ctx.em, account, ctx.jwtSecret);
    await ctx.em.flush();
    return session;
  }

  @Mutation(() => AuthPayload, { description: 'Trade a refresh token for a new access and refresh token.' })
  async refreshToken(@Arg('refreshToken') token: string, @Ctx() ctx: SubgraphContext): Promise<AuthPayload> {
    const spent = await spendRefreshToken(ctx.em, token);
    const session = issueSession(
      ctx.em,
      await ctx.get(Account, spent.accountId),
      ctx.jwtSecret,
      spent.familyId,
    );
    await ctx.em.flush();
    return session;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'Shown to the account itself and to admins only.',
  })
  email(@Root() account: Account, @Ctx() ctx: SubgraphContext): string | null {
    return privateTo(account, ctx) ? account.email : null;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description: 'Whether the email address was proven by its verification link (own account and admins).',
  })
  emailVerified(@Root() account: Account, @Ctx() ctx: SubgraphContext): boolean | null {
    return privateTo(account, ctx) ? account.emailVerifiedAt !== null : null;
  }
}

/** The account itself (or one that just proved who it is) and admins see its private fields. */
function privateTo(account: Account, ctx: SubgraphContext): boolean {
  const caller = ctx.caller;
  return (
    justSignedIn.has(account) ||
    (caller.kind === 'account' &&
      (caller.identity.accountId === account.id || caller.identity.role === 'ADMIN'))
  );
}
