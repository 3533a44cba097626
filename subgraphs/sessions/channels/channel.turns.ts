/**
 * A channel message answered: it becomes a turn in the chat's own session (one per chat, opened
 * under the key `<channel>:<chat id>`) of the bound account and agent, and the answer goes back
 * through the channel's API. The webhook is answered before this runs, as Ironclad's handlers
 * spawn the turn and answer Telegram at once.
 */
import {
  AppError,
  createReferenceChecker,
  type EntityManager,
  type Identity,
  type Logger,
  type SubgraphContext,
} from '../../../lib';
import { Message, Turn } from '../chat.entities';
import { validateChat } from '../chat.input';
import { prepareTurn } from '../chat.resolver';
import { ChannelDeliveryState, ChannelInbound, ChannelOutbound } from './channel.entities';
import { SendError, sendText, type ChannelSettings, type InboundText } from './channel.protocols';

/** What the sender reads when no answer could be made (Ironclad's CHANNEL_PROCESSING_ERROR_REPLY). */
export const PROCESSING_ERROR_REPLY = 'Sorry, I could not answer that message. Please try again later.';

/** A message that arrives while the chat's last answer still streams waits this long at most. */
const BUSY_RETRIES = 60;
const BUSY_WAIT_MS = 1000;

/**
 * The caller a channel's turns run as: the bound account, with the one scope chat needs. References
 * are checked as this service (which sees every account and agent), since nobody signed in.
 * Only what a new turn reads of the context is replaced (`me`, `em`, `references`).
 */
function boundContext(ctx: SubgraphContext, accountId: string): SubgraphContext {
  const identity: Identity = { accountId, role: 'USER', scopes: ['orders'], via: 'api_key' };
  return {
    ...ctx,
    em: ctx.em.fork(),
    caller: { kind: 'account', identity },
    me: () => identity,
    ownedWhere: (field) => ({ [field]: accountId }),
    references: createReferenceChecker(ctx.peers, () => ({ requestId: ctx.requestId })),
  };
}

const isBusy = (error: unknown) =>
  error instanceof AppError && error.extensions.code === 'CONFLICT' && /still streaming/.test(error.message);

/** The turn of one message, waiting while the chat's previous answer still streams. */
async function runTurn(
  ctx: SubgraphContext,
  settings: ChannelSettings,
  inbound: ChannelInbound,
  text: string,
) {
  await ctx.references.require('Account', settings.accountId, `${settings.channel} bound account`);
  const request = validateChat({
    sessionKey: `${settings.channel}:${inbound.chatId}`,
    content: text,
    agentId: settings.agentId,
    title: `${settings.channel} ${inbound.chatId}`,
    // A message the channel delivers again after a crash is the same turn, not a second one.
    idempotencyKey: `${settings.channel}:${inbound.externalId}`,
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const { turn, start } = await prepareTurn(ctx, request);
      await start();
      return ctx.em.fork().findOneOrFail(Turn, turn.id);
    } catch (error) {
      if (!isBusy(error) || attempt >= BUSY_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
    }
  }
}

/** Sends one outbound row and records the outcome; a failure leaves it FAILED, a dead letter. */
export async function deliver(
  em: EntityManager,
  settings: ChannelSettings,
  outbound: ChannelOutbound,
  log: Logger,
): Promise<ChannelOutbound> {
  let outcome: Partial<ChannelOutbound>;
  try {
    await sendText(settings, outbound.recipientId, outbound.content);
    outcome = { state: ChannelDeliveryState.SENT, lastError: null, lastStatusCode: 200 };
  } catch (error) {
    if (!(error instanceof SendError)) throw error;
    log.warn(
      { channel: outbound.channel, outbound: outbound.id, err: error.message },
      'channel answer not sent',
    );
    outcome = { state: ChannelDeliveryState.FAILED, lastError: error.message, lastStatusCode: error.status };
  }
  Object.assign(outbound, outcome, { attempts: outbound.attempts + 1, updatedAt: new Date() });
  await em.flush();
  return outbound;
}

/** Per chat, one message after the other on this replica, so answers leave in the order asked. */
const chatQueues = new Map<string, Promise<void>>();

function inChatOrder(key: string, work: () => Promise<void>): Promise<void> {
  const next = (chatQueues.get(key) ?? Promise.resolve()).then(work);
  const settled = next.catch(() => undefined);
  chatQueues.set(key, settled);
  void settled.then(() => chatQueues.get(key) === settled && chatQueues.delete(key));
  return next;
}

/** Answers one stored inbound message; a failure to answer is recorded on the message and replied. */
export function answerInBackground(
  ctx: SubgraphContext,
  settings: ChannelSettings,
  inboundId: string,
  message: InboundText,
): Promise<void> {
  const bound = boundContext(ctx, settings.accountId);
  const { em } = bound;
  const log = ctx.log.child({ channel: settings.channel, inbound: inboundId });
  return inChatOrder(`${settings.channel}:${message.chatId}`, async () => {
    const row = await em.findOneOrFail(ChannelInbound, inboundId);
    const { text } = message;
    let answer: string;
    try {
      const turn = await runTurn(bound, settings, row, text);
      const reply = turn.assistantMessageId ? await em.findOne(Message, turn.assistantMessageId) : null;
      Object.assign(row, { sessionId: turn.sessionId, turnId: turn.id });
      if (reply?.content) answer = reply.content;
      else {
        row.error = turn.errorMessage ?? 'the answer was empty';
        answer = PROCESSING_ERROR_REPLY;
      }
    } catch (error) {
      log.warn({ err: error }, 'channel message not answered');
      row.error = error instanceof AppError ? error.message : 'the message could not be answered';
      answer = PROCESSING_ERROR_REPLY;
    }
    row.updatedAt = new Date();
    try {
      const outbound = em.create(ChannelOutbound, {
        channel: settings.channel,
        ownerId: settings.accountId,
        recipientId: row.chatId,
        content: answer,
        inboundId: row.id,
      });
      await em.flush();
      await deliver(em, settings, outbound, log);
    } catch (error) {
      log.error({ err: error }, 'channel answer not recorded');
    }
  });
}
