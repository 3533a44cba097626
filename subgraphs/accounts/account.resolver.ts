import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AppError,
  Authenticated,
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
    });
    const session = issueSession(ctx.em, account, ctx.jwtSecret);
    await flushUnique(ctx.em, `email ${email} is already registered`, { field: 'email' });
    return session;
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
    const caller = ctx.caller;
    const allowed =
      justSignedIn.has(account) ||
      (caller.kind === 'account' &&
        (caller.identity.accountId === account.id || caller.identity.role === 'ADMIN'));
    return allowed ? account.email : null;
  }
}
