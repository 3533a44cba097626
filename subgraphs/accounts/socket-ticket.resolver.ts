import { randomBytes } from 'node:crypto';
import { Arg, Ctx, Directive, Field, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Authenticated, deleteReturning, sha256, type SubgraphContext } from '../../lib';
import { Account } from './account.entity';
import { CredentialIdentity } from './account.types';
import { ApiKey, ApiKeyStatus } from './api-key.entity';
import { routerOnly } from './internal.resolver';
import { SocketTicket } from './socket-ticket.entity';

/** Ironclad's ticket lifetime (ws_ticket.rs TICKET_TTL): long enough to open the socket, no more. */
export const SOCKET_TICKET_SECONDS = 30;
const TICKET_PREFIX = 'wst_';

@ObjectType({ description: 'A single-use ticket for opening a WebSocket without a header credential.' })
class IssuedSocketTicket {
  @Field({ description: 'Pass it as `?ticket=`; shown in this answer only.' })
  ticket!: string;

  @Field(() => Int, { description: 'Seconds it stays valid.' })
  expiresIn!: number;
}

@Resolver()
export class SocketTicketResolver {
  @Authenticated()
  @Mutation(() => IssuedSocketTicket, {
    description: `A ticket that opens one WebSocket as you within ${SOCKET_TICKET_SECONDS} seconds, once.`,
  })
  async issueSocketTicket(@Ctx() ctx: SubgraphContext): Promise<IssuedSocketTicket> {
    const me = ctx.me();
    const ticket = TICKET_PREFIX + randomBytes(32).toString('hex');
    // Expired tickets are cleared as new ones are issued, so the table holds only live ones.
    await ctx.em.nativeDelete(SocketTicket, { expiresAt: { $lt: new Date() } });
    ctx.em.create(SocketTicket, {
      id: sha256(ticket),
      accountId: me.accountId,
      apiKeyId: me.apiKeyId ?? null,
      expiresAt: new Date(Date.now() + SOCKET_TICKET_SECONDS * 1000),
    });
    await ctx.em.flush();
    return { ticket, expiresIn: SOCKET_TICKET_SECONDS };
  }

  @Directive('@inaccessible')
  @Query(() => CredentialIdentity, {
    nullable: true,
    description: 'Redeems a socket ticket (it is gone after this): who it was issued to, if still valid.',
  })
  async socketTicketIdentity(
    @Arg('ticket') ticket: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<CredentialIdentity | null> {
    routerOnly(ctx);
    const [redeemed] = await deleteReturning(ctx.em, SocketTicket, {
      id: sha256(ticket),
      expiresAt: { $gt: new Date() },
    });
    if (!redeemed) return null;
    const account = await ctx.em.findOne(Account, redeemed.accountId);
    if (!account) return null;
    if (!redeemed.apiKeyId)
      return { accountId: account.id, role: account.role, scopes: ['*'], apiKeyId: null };
    // A key revoked since the ticket was issued opens nothing.
    const key = await ctx.em.findOne(ApiKey, redeemed.apiKeyId);
    if (!key || key.status !== ApiKeyStatus.ACTIVE) return null;
    return { accountId: account.id, role: account.role, scopes: key.scopes, apiKeyId: key.id };
  }
}
