import { Arg, Args, Ctx, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Connection, flushUnique, PageArgs, paginate, type SubgraphContext } from '../../lib';
import { Account } from './account.entity';
import { CreateAccountInput, validateCreateAccount } from './account.input';

@ObjectType()
class AccountConnection extends Connection(Account) {}

@Resolver(() => Account)
export class AccountResolver {
  @Query(() => Account, { description: 'One account by id.' })
  account(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Account> {
    return ctx.get(Account, id);
  }

  @Query(() => AccountConnection, { description: 'Accounts, newest first.' })
  accounts(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<AccountConnection> {
    return paginate(ctx.em, Account, {}, page);
  }

  @Mutation(() => Account, { description: 'Create an account; an email is used once.' })
  async createAccount(@Arg('input') raw: CreateAccountInput, @Ctx() ctx: SubgraphContext): Promise<Account> {
    const account = ctx.em.create(Account, validateCreateAccount(raw));
    await flushUnique(ctx.em, `email ${account.email} is already registered`, { field: 'email' });
    return account;
  }
}
