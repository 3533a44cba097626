import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import {
  Authenticated,
  badInput,
  conflict,
  newId,
  paginate,
  PageArgs,
  RequiresScopes,
  type SubgraphContext,
} from '../../../lib';
import {
  ChannelAdapterStatus,
  ChannelDeliveryState,
  ChannelName,
  ChannelOutbound,
  ChannelOutboundConnection,
  ChannelReceipt,
} from './channel.entities';
import {
  checkTelegramSecret,
  checkWhatsAppSignature,
  requireSettings,
  telegramMessages,
  whatsAppChallenge,
  whatsAppMessages,
  type ChannelSettings,
  type InboundText,
} from './channel.protocols';
import { channelStatus } from './channel.status';
import { answerInBackground, deliver } from './channel.turns';

/** The engine's body limit bounds it already; decoded here once. */
function bodyOf(bodyBase64: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bodyBase64))
    throw badInput('bodyBase64 is not base64', { argument: 'bodyBase64' });
  return Buffer.from(bodyBase64, 'base64');
}

/**
 * Stores each new message (a repeat of one already stored is counted and left alone) and answers
 * it in the background; the webhook is answered as soon as the messages are stored.
 */
async function take(ctx: SubgraphContext, settings: ChannelSettings, messages: InboundText[]) {
  let accepted = 0;
  for (const message of messages) {
    const [stored] = await ctx.em.execute<{ id: string }[]>(
      `insert into "sessions"."channel_inbound"
         ("id", "channel", "external_id", "chat_id", "owner_id", "created_at", "updated_at")
       values (?, ?, ?, ?, ?, now(), now())
       on conflict ("channel", "external_id") do nothing
       returning "id"`,
      [newId('chin'), settings.channel, message.externalId, message.chatId, settings.accountId],
    );
    if (!stored) continue;
    accepted++;
    void answerInBackground(ctx, settings, stored.id, message).catch((error: unknown) =>
      ctx.log.error({ err: error, inbound: stored.id }, 'channel message not answered'),
    );
  }
  return { accepted, duplicates: messages.length - accepted };
}

const ownerOf = (row: ChannelOutbound) => row.ownerId;

@Resolver()
export class ChannelResolver {
  @Mutation(() => ChannelReceipt, {
    description:
      "Telegram's webhook: the Update as sent (base64) and its X-Telegram-Bot-Api-Secret-Token. A text " +
      'message becomes a turn of the bound account, answered with sendMessage. Needs no credential.',
  })
  async receiveTelegramUpdate(
    @Arg('secretToken', () => String, { nullable: true }) secretToken: string | null,
    @Arg('bodyBase64') bodyBase64: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ChannelReceipt> {
    const settings = requireSettings(ChannelName.TELEGRAM);
    checkTelegramSecret(settings, secretToken);
    return take(ctx, settings, telegramMessages(bodyOf(bodyBase64)));
  }

  @Mutation(() => ChannelReceipt, {
    description:
      "WhatsApp Cloud API's webhook: the body as sent (base64) and its X-Hub-Signature-256. Text " +
      'messages become turns of the bound account, answered through /{phone-number-id}/messages.',
  })
  async receiveWhatsAppWebhook(
    @Arg('signature', () => String, { nullable: true }) signature: string | null,
    @Arg('bodyBase64') bodyBase64: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ChannelReceipt> {
    const settings = requireSettings(ChannelName.WHATSAPP);
    const body = bodyOf(bodyBase64);
    checkWhatsAppSignature(settings, signature, body);
    return take(ctx, settings, whatsAppMessages(body));
  }

  @Query(() => String, {
    description: "WhatsApp's webhook verification: the challenge back when hub.verify_token is ours.",
  })
  whatsAppVerification(
    @Arg('mode', () => String, { nullable: true }) mode: string | null,
    @Arg('verifyToken', () => String, { nullable: true }) verifyToken: string | null,
    @Arg('challenge', () => String, { nullable: true }) challenge: string | null,
  ): string {
    return whatsAppChallenge(mode, verifyToken, challenge);
  }

  @Authenticated()
  @Query(() => [ChannelAdapterStatus], {
    description: 'Each messaging channel: configured, traffic, errors.',
  })
  channelStatus(@Ctx() ctx: SubgraphContext): Promise<ChannelAdapterStatus[]> {
    return channelStatus(ctx.em);
  }

  // The dead-letter list is one list with the webhook deliveries' (tasks), so it needs their scope.
  @RequiresScopes('tasks')
  @Query(() => ChannelOutboundConnection, {
    description: 'Channel answers that could not be sent (dead letters), newest first.',
  })
  channelDeadLetters(
    @Args() page: PageArgs,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ChannelOutboundConnection> {
    const where = { $and: [ctx.ownedWhere('ownerId'), { state: ChannelDeliveryState.FAILED }] };
    return paginate(ctx.em, ChannelOutbound, where, page);
  }

  @RequiresScopes('tasks')
  @Mutation(() => ChannelOutbound, {
    description: 'Sends a dead letter again through its channel; it is SENT, or FAILED again.',
  })
  async replayChannelMessage(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ChannelOutbound> {
    const outbound = await ctx.getOwned(ChannelOutbound, id, ownerOf);
    const settings = requireSettings(outbound.channel);
    // Conditional, so of two concurrent replays one sends it and the other is told it already is.
    const taken = await ctx.em.nativeUpdate(
      ChannelOutbound,
      { id, state: ChannelDeliveryState.FAILED },
      { state: ChannelDeliveryState.PENDING, updatedAt: new Date() },
    );
    await ctx.em.refresh(outbound);
    if (!taken)
      throw conflict(`message ${id} is ${outbound.state}: only FAILED messages can be replayed`, {
        state: outbound.state,
      });
    return deliver(ctx.em, settings, outbound, ctx.log);
  }
}
