import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { badInput } from '../../lib';
import { MessageRole } from './chat.entities';
import { DEFAULT_MODEL } from './session.input';

export const MAX_MESSAGE_CHARS = 32_000;
const MAX_COMMENT_CHARS = 2000;
const MODEL_NAME = /^[\w.:/-]{1,100}$/;

export function validateMessage(content: string, model: string | null | undefined) {
  const text = content.trim();
  if (!text) throw badInput('content must not be empty', { field: 'content' });
  if (text.length > MAX_MESSAGE_CHARS)
    throw badInput(`content must be at most ${MAX_MESSAGE_CHARS} characters`, { field: 'content' });
  const requested = model?.trim() || null;
  if (requested !== null && !MODEL_NAME.test(requested))
    throw badInput('model is not a valid model name', { field: 'model' });
  return { content: text, requestedModel: requested };
}

/**
 * The model of a turn and why: asked for with the message, else the session's, else the roster
 * model of the agent the session is bound to, else the platform's.
 */
export function chooseModel(
  requested: string | null,
  sessionModel: string,
  platformDefault: string,
  rosterModel: string | null = null,
) {
  if (requested) return { model: requested, modelReason: 'requested with the message' };
  if (sessionModel !== DEFAULT_MODEL) return { model: sessionModel, modelReason: 'session default' };
  if (rosterModel) return { model: rosterModel, modelReason: "agent's roster model" };
  return { model: platformDefault, modelReason: 'platform default' };
}

@ArgsType()
export class ChatEventsArgs {
  @Field(() => ID, { nullable: true, description: 'One session; without it, every session you own.' })
  sessionId?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Replay stored events with a greater seq first (needs sessionId); 0 replays all.',
  })
  afterSeq?: number | null;
}

export function validateChatEventsArgs({ sessionId, afterSeq }: ChatEventsArgs) {
  if (afterSeq === null || afterSeq === undefined)
    return { sessionId: sessionId ?? undefined, afterSeq: undefined };
  if (afterSeq < 0) throw badInput('afterSeq must not be negative', { argument: 'afterSeq' });
  if (!sessionId)
    throw badInput('afterSeq needs a sessionId: seq counts per session', { argument: 'afterSeq' });
  return { sessionId, afterSeq };
}

@InputType()
export class FeedbackInput {
  @Field(() => Int, { description: '1 (poor) to 5 (excellent).' })
  grade!: number;

  @Field(() => String, { nullable: true })
  comment?: string | null;
}

export function validateFeedback(input: FeedbackInput) {
  if (!Number.isInteger(input.grade) || input.grade < 1 || input.grade > 5)
    throw badInput('grade must be an integer from 1 to 5', { field: 'grade' });
  const comment = input.comment?.trim() || null;
  if (comment && comment.length > MAX_COMMENT_CHARS)
    throw badInput(`comment must be at most ${MAX_COMMENT_CHARS} characters`, { field: 'comment' });
  return { grade: input.grade, comment };
}

const MAX_CONVERSATION_MESSAGES = 200;
const PRINTABLE_KEY = /^[\x21-\x7e]{1,200}$/;
const MAX_CONVERSATION_CHARS = 200_000;

@InputType({ description: 'A message of a conversation sent whole, the way OpenAI-style clients do.' })
export class ChatMessageInput {
  @Field(() => MessageRole)
  role!: MessageRole;

  @Field()
  content!: string;
}

@InputType({ description: 'One message to answer: in a session of yours, or in a new one.' })
export class ChatInput {
  @Field(() => ID, { nullable: true, description: 'Continue this session; omit it to start a new one.' })
  sessionId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "A client's own name for the conversation (Hermes' X-Hermes-Session-Id): continues your session " +
      'with this id or key, or opens one under this key. Its stored history is the context, so of ' +
      '`messages` only the last one is new once the session exists. Up to 200 printable characters.',
  })
  sessionKey?: string | null;

  @Field(() => String, { nullable: true, description: 'The message. Give it or `messages`.' })
  content?: string | null;

  @Field(() => [ChatMessageInput], {
    nullable: true,
    description:
      'A whole conversation instead of `content` (OpenAI-style, stateless): answered in a new session ' +
      'that closes with the answer.',
  })
  messages?: ChatMessageInput[] | null;

  @Field(() => String, { nullable: true, description: "The model; else the session's, else the platform's." })
  model?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Title of a new session; the message start by default.',
  })
  title?: string | null;

  @Field(() => ID, { nullable: true, description: 'The marketplace agent of a new session.' })
  agentId?: string | null;

  @Field(() => Float, { nullable: true, description: '0 to 2.' })
  temperature?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most tokens the answer may have, 1 to 100000.' })
  maxTokens?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Sending again with the same key (after a dropped connection, say) sends nothing twice: you get ' +
      'the first turn and its answer from the start. Up to 200 printable characters.',
  })
  idempotencyKey?: string | null;
}

export interface ChatRequest {
  sessionId: string | null;
  /** Continue the session of this id or client key, or open one under the key. */
  sessionKey: string | null;
  /** Messages to store before the answer; the last is the one answered. */
  messages: { role: MessageRole; content: string }[];
  /** A stateless conversation: the messages are the whole context and the session closes after. */
  oneShot: boolean;
  requestedModel: string | null;
  title: string | null;
  agentId: string | null;
  parameters: { temperature?: number; maxTokens?: number };
  idempotencyKey: string | null;
}

export function validateChat(input: ChatInput): ChatRequest {
  const hasContent = input.content !== null && input.content !== undefined;
  if (hasContent === Boolean(input.messages))
    throw badInput('give either content or messages', { field: hasContent ? 'messages' : 'content' });
  if (input.messages && input.sessionId)
    throw badInput('messages start a new conversation: leave sessionId out', { field: 'sessionId' });
  const sessionKey = input.sessionKey ?? null;
  if (sessionKey !== null && input.sessionId)
    throw badInput('give sessionId or sessionKey, not both', { field: 'sessionKey' });
  if (sessionKey !== null && !PRINTABLE_KEY.test(sessionKey))
    throw badInput('sessionKey must be 1 to 200 printable characters', { field: 'sessionKey' });
  const { requestedModel } = validateMessage('-', input.model);
  const messages = input.messages
    ? validateConversation(input.messages)
    : [{ role: MessageRole.USER, content: validateMessage(input.content!, null).content }];
  const { temperature, maxTokens } = input;
  if (temperature !== null && temperature !== undefined && !(temperature >= 0 && temperature <= 2))
    throw badInput('temperature must be from 0 to 2', { field: 'temperature' });
  if (maxTokens !== null && maxTokens !== undefined && !(maxTokens >= 1 && maxTokens <= 100_000))
    throw badInput('maxTokens must be from 1 to 100000', { field: 'maxTokens' });
  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey !== null && !PRINTABLE_KEY.test(idempotencyKey))
    throw badInput('idempotencyKey must be 1 to 200 printable characters', { field: 'idempotencyKey' });
  return {
    sessionId: input.sessionId ?? null,
    sessionKey,
    messages,
    // A keyed conversation goes on after the answer.
    oneShot: Boolean(input.messages) && sessionKey === null,
    requestedModel,
    title: input.title ?? null,
    agentId: input.agentId ?? null,
    parameters: { temperature: temperature ?? undefined, maxTokens: maxTokens ?? undefined },
    idempotencyKey,
  };
}

function validateConversation(messages: ChatMessageInput[]) {
  if (!messages.length || messages.length > MAX_CONVERSATION_MESSAGES)
    throw badInput(`messages must hold 1 to ${MAX_CONVERSATION_MESSAGES} messages`, { field: 'messages' });
  const total = messages.reduce((sum, message) => sum + message.content.length, 0);
  if (total > MAX_CONVERSATION_CHARS)
    throw badInput(`messages must total at most ${MAX_CONVERSATION_CHARS} characters`, { field: 'messages' });
  if (messages.at(-1)!.role !== MessageRole.USER)
    throw badInput('the last message must be from the user: it is the one answered', { field: 'messages' });
  return messages.map(({ role, content }) => ({ role, content }));
}
