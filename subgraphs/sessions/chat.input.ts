import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { badInput } from '../../lib';
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

/** The model of a turn and why: asked for with the message, else the session's, else the platform's. */
export function chooseModel(requested: string | null, sessionModel: string, platformDefault: string) {
  if (requested) return { model: requested, modelReason: 'requested with the message' };
  if (sessionModel !== DEFAULT_MODEL) return { model: sessionModel, modelReason: 'session default' };
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
