/**
 * The setup interview (002's /api/interview/*, Ironclad's api/routes/interview.rs): a conversation
 * with the upstream LLM that ends in a configuration proposal, checked against the settings store's
 * schemas and applied through it by an admin. The conversation is stored, so any replica takes
 * the next turn. Interviews are keyed per owner; another account's key is simply not found.
 */
import { randomUUID } from 'node:crypto';
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { AppError, Authenticated, badInput, MODEL_NAME, type SubgraphContext } from '../../../lib';
import { completeAnswer } from '../chat.complete';
import { chatSettings, providerFor } from '../chat.providers';
import { UpstreamError, type UpstreamMessage } from '../chat.upstream';
import {
  startInterview,
  findInterview,
  appendTurn,
  lockInterview,
  markApplied,
  MAX_HISTORY,
} from './interview.store';
import { interviewPrompt, readProposal, refusalNote, type Proposal } from './interview.proposal';

const MAX_CONTENT_CHARS = 8000;
const MAX_ANSWER_CHARS = 32_000;
const KEY_PATTERN = /^[\w.:-]{1,100}$/;

@ObjectType({ description: 'A setting proposed or applied by an interview.' })
class InterviewSetting {
  @Field({ description: 'Dot notation, e.g. model.temperature.' })
  key!: string;

  @Field({ description: 'The value as JSON text.' })
  value!: string;
}

@ObjectType({
  description: "The configuration an interview's answer proposed, as the settings store checks it.",
})
class InterviewProposal {
  @Field({ description: 'Whether the store would accept every setting.' })
  valid!: boolean;

  @Field(() => [InterviewSetting], { description: 'The checked settings (none when invalid).' })
  settings!: InterviewSetting[];

  @Field(() => [String], { description: 'Why it was refused; the interview goes on.' })
  errors!: string[];
}

@ObjectType({ description: 'A setup interview.' })
class Interview {
  @Field({ description: "Names the interview among its owner's." })
  sessionKey!: string;

  @Field({ description: 'ACTIVE, or APPLIED once finished.' })
  status!: string;

  @Field({ description: 'The model that conducts it.' })
  model!: string;

  @Field({ description: 'How the interview opens.' })
  opening!: string;
}

@ObjectType({ description: "One exchange of an interview: the operator's message and the LLM's answer." })
class InterviewTurn {
  @Field()
  sessionKey!: string;

  @Field()
  content!: string;

  @Field(() => Int, { description: 'Messages in the conversation so far, its opening prompt included.' })
  turn!: number;

  @Field(() => InterviewProposal, {
    nullable: true,
    description: 'Set when the answer proposed a configuration.',
  })
  proposal!: InterviewProposal | null;
}

@ObjectType({ description: 'A finished interview: its configuration applied through the settings store.' })
class InterviewResult {
  @Field()
  sessionKey!: string;

  @Field()
  status!: string;

  @Field(() => [InterviewSetting])
  applied!: InterviewSetting[];
}

const OPENING = 'Initiating setup interview: tell me how this platform should run.';

const settingsOf = (settings: Map<string, unknown>): InterviewSetting[] =>
  [...settings].map(([key, value]) => ({ key, value: JSON.stringify(value) }));

const proposalOf = (proposal: Proposal): InterviewProposal =>
  proposal.valid
    ? { valid: true, settings: settingsOf(proposal.settings), errors: [] }
    : { valid: false, settings: [], errors: proposal.errors };

const noInterview = (key: string) =>
  new AppError('NOT_FOUND', 'no interview session found', { session_key: key });

function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key))
    throw badInput('session_key must be 1 to 100 letters, digits, . : _ -', { field: 'session_key' });
  return key;
}

@Resolver()
export class InterviewResolver {
  @Authenticated()
  @Mutation(() => Interview, {
    description:
      'Starts a setup interview (a key of your own, or a new one); CONFLICT while one of that key runs.',
  })
  async startInterview(
    @Arg('sessionKey', () => String, { nullable: true }) sessionKey: string | null,
    @Arg('model', () => String, { nullable: true, description: 'The default model when none.' })
    model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Interview> {
    const key = checkKey(sessionKey ?? randomUUID());
    const chosen = model ?? chatSettings().defaultModel;
    if (!MODEL_NAME.test(chosen)) throw badInput('model must be a model name', { field: 'model' });
    await startInterview(ctx.em, {
      ownerId: ctx.me().accountId,
      key,
      model: chosen,
      history: [{ role: 'system', content: interviewPrompt() }],
    });
    return { sessionKey: key, status: 'ACTIVE', model: chosen, opening: OPENING };
  }

  @Authenticated()
  @Mutation(() => InterviewTurn, {
    description:
      "Answers the interview and returns the LLM's next message; a configuration it proposes is " +
      'checked, and a refused one is explained to it. UPSTREAM_UNAVAILABLE without an upstream.',
  })
  async interviewTurn(
    @Arg('sessionKey') sessionKey: string,
    @Arg('content') content: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<InterviewTurn> {
    if (!content.trim() || content.length > MAX_CONTENT_CHARS)
      throw badInput(`content must be 1 to ${MAX_CONTENT_CHARS} characters`, { field: 'content' });
    const interview = await findInterview(ctx.em, ctx.me().accountId, sessionKey);
    if (!interview) throw noInterview(sessionKey);
    if (interview.status !== 'ACTIVE') throw new AppError('CONFLICT', 'the interview is already finished');
    if (interview.history.length >= MAX_HISTORY)
      throw new AppError('PAYLOAD_TOO_LARGE', 'interview session has reached the maximum number of turns', {
        max_turns: MAX_HISTORY,
      });
    const provider = providerFor(interview.model);
    if (!provider)
      throw new AppError(
        'UPSTREAM_UNAVAILABLE',
        `no upstream LLM serves model ${interview.model}; the interview needs one`,
      );
    const question: UpstreamMessage = { role: 'user', content };
    let answer: string;
    try {
      ({ content: answer } = await completeAnswer(
        provider,
        interview.model,
        [...interview.history, question],
        {
          maxTokens: 4096,
          maxChars: MAX_ANSWER_CHARS,
          tooLong: () =>
            new AppError('BAD_GATEWAY', 'the upstream LLM answered beyond the interview’s limit'),
        },
      ));
    } catch (error) {
      // An open breaker means no upstream now (503); a failed call is Ironclad's 502.
      if (error instanceof UpstreamError)
        throw new AppError(
          error.code === 'UPSTREAM_UNAVAILABLE' ? 'UPSTREAM_UNAVAILABLE' : 'BAD_GATEWAY',
          `LLM call failed: ${error.message}`,
        );
      throw error;
    }
    const proposal = readProposal(answer);
    const added: UpstreamMessage[] = [question, { role: 'assistant', content: answer }];
    if (proposal && !proposal.valid) added.push({ role: 'system', content: refusalNote(proposal.errors) });
    const turn = await appendTurn(ctx.em, interview.id, added);
    if (turn === undefined) throw new AppError('CONFLICT', 'the interview was finished or filled meanwhile');
    return { sessionKey, content: answer, turn, proposal: proposal ? proposalOf(proposal) : null };
  }

  @Authenticated()
  @Mutation(() => InterviewResult, {
    description:
      "Applies the configuration of the LLM's last answer through the settings store (admins only); " +
      'UNPROCESSABLE when that answer proposes none or an invalid one. Once only.',
  })
  async finishInterview(
    @Arg('sessionKey') sessionKey: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<InterviewResult> {
    const me = ctx.me();
    return ctx.em.fork().transactional(async (em) => {
      // Locked, so two finishes cannot both apply it.
      const interview = await lockInterview(em, me.accountId, sessionKey);
      if (!interview) throw noInterview(sessionKey);
      if (interview.status !== 'ACTIVE') throw new AppError('CONFLICT', 'the interview is already finished');
      const last = interview.history.findLast((m) => m.role === 'assistant');
      const proposal = last && readProposal(last.content ?? '');
      if (!proposal)
        throw new AppError(
          'UNPROCESSABLE',
          'no configuration proposal in the last assistant answer: continue the interview until it proposes one',
        );
      if (!proposal.valid)
        throw new AppError(
          'UNPROCESSABLE',
          `the proposed configuration is invalid: ${proposal.errors.join('; ')}`,
        );
      if (me.role !== 'ADMIN') throw new AppError('FORBIDDEN', 'only an admin may apply a configuration');
      const applied = settingsOf(proposal.settings);
      // As the caller, so the settings store applies its own rules; committed there before ours.
      await ctx.peers.request(
        'accounts',
        'mutation ApplyInterview($changes: [SettingChange!]!) { updatePlatformSettings(changes: $changes) { key } }',
        { changes: applied },
        { identity: ctx.identityHeader, requestId: ctx.requestId },
      );
      await markApplied(em, interview.id);
      return { sessionKey, status: 'APPLIED', applied };
    });
  }
}
