import { Field, ID, InputType } from 'type-graphql';
import { badInput, type SubgraphContext } from '../../lib';

@InputType()
export class StartSessionInput {
  @Field(() => ID, { nullable: true })
  agentId?: string;

  @Field({ nullable: true })
  title?: string;

  @Field({ nullable: true })
  model?: string;
}

export const DEFAULT_MODEL = 'default';

/** A session title: trimmed, at most 200 characters; none is `fallback`. */
export function validateTitle(title: string | null | undefined, fallback: string) {
  const text = title?.trim() || fallback;
  if (!text) throw badInput('title must not be empty', { field: 'title' });
  if (text.length > 200) throw badInput('title must be at most 200 characters', { field: 'title' });
  return text;
}

/** The session's settings; its marketplace agent must exist. */
export async function validateStartSession(ctx: SubgraphContext, input: StartSessionInput) {
  const title = validateTitle(input.title, 'New chat');
  const model = input.model?.trim() || DEFAULT_MODEL;
  if (!/^[\w.:/-]{1,100}$/.test(model)) throw badInput('model is not a valid model name', { field: 'model' });
  const agentId =
    input.agentId == null ? null : await ctx.references.require('Agent', input.agentId, 'agentId');
  return { agentId, title, model };
}
