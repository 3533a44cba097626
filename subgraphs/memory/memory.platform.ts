import { Arg, Ctx, Directive, Field, ID, InputType, Int, Mutation, Resolver } from 'type-graphql';
import { AppError, newIds, safeText, type EntityManager, type SubgraphContext } from '../../lib';
import { MemoryEntry, MemoryEventKind, MemoryTier } from './memory.entity';
import { publishMemoryEvents } from './memory.events';
import { MEMORY_LIMITS } from './memory.input';

/*
 * The tiers the platform fills itself. The sessions service reports each finished chat turn
 * (its id is the idempotency key): the question and answer become an EPISODIC entry, and, while the
 * session is open, two WORKING entries, of which each session keeps its most recent
 * MEMORY_LIMITS.workingPerSession. Closing or deleting a session forgets its working memory.
 */

@InputType({ description: 'A finished chat turn, as the sessions service reports it.' })
@Directive('@inaccessible')
export class ChatTurnMemoryInput {
  @Field(() => ID)
  turnId!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => ID)
  sessionId!: string;

  @Field(() => ID, { nullable: true })
  agentId?: string | null;

  @Field()
  question!: string;

  @Field()
  answer!: string;

  @Field({ description: 'Also keep the turn as the session’s working memory (an open session).' })
  working!: boolean;
}

const bounded = (text: string) => safeText(text).slice(0, MEMORY_LIMITS.content);

function requireSessions(ctx: SubgraphContext) {
  if (ctx.caller.kind !== 'service' || ctx.caller.service !== 'sessions')
    throw new AppError('FORBIDDEN', 'only the sessions service reports chat turns');
}

interface NewEntry {
  tier: MemoryTier;
  category: string;
  content: string;
  key: string;
  metadata: Record<string, unknown>;
}

/** Inserts what is not there yet (by idempotency key); the rows inserted now. */
async function insertNew(
  em: EntityManager,
  input: ChatTurnMemoryInput,
  entries: NewEntry[],
): Promise<MemoryEntry[]> {
  const ids = newIds('mem', entries.length);
  // em.execute runs in em's transaction; the connection's own execute would take a second pooled
  // connection while the transaction holds one, which exhausts the pool under concurrent turns.
  const rows = await em.execute<Record<string, unknown>[]>(
    `insert into "memory"."memory_entry" ("id", "owner_id", "agent_id", "session_id", "tier", "category",
       "content", "importance", "metadata", "source", "idempotency_key")
     values ${entries.map(() => `(?, ?, ?, ?, ?, ?, ?, 0.5, ?::jsonb, 'chat', ?)`).join(', ')}
     on conflict ("owner_id", "idempotency_key") where "idempotency_key" is not null do nothing
     returning *`,
    entries.flatMap((entry, index) => [
      ids[index],
      input.ownerId,
      input.agentId ?? null,
      input.sessionId,
      entry.tier,
      entry.category,
      entry.content,
      JSON.stringify(entry.metadata),
      entry.key,
    ]),
  );
  return rows.map((row) => em.map(MemoryEntry, row));
}

@Resolver()
export class MemoryPlatformResolver {
  @Directive('@inaccessible')
  @Mutation(() => Int, {
    description: 'Services: remember a finished chat turn; how many entries were new (0 on a retry).',
  })
  async recordChatTurnMemory(
    @Arg('input') input: ChatTurnMemoryInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<number> {
    requireSessions(ctx);
    const question = bounded(input.question);
    const answer = bounded(input.answer);
    const turn = { turnId: input.turnId };
    const entries: NewEntry[] = [
      {
        tier: MemoryTier.EPISODIC,
        category: 'conversation',
        content: bounded(`Q: ${question}\nA: ${answer}`),
        key: input.turnId,
        metadata: turn,
      },
      ...(input.working
        ? [
            { role: 'user', content: question },
            { role: 'assistant', content: answer },
          ]
            .filter((message) => message.content.trim() !== '')
            .map((message) => ({
              tier: MemoryTier.WORKING,
              category: message.role,
              content: message.content,
              key: `${input.turnId}.${message.role}`,
              metadata: { ...turn, role: message.role },
            }))
        : []),
    ];
    const { stored, trimmed } = await ctx.em.transactional(async (tx) => {
      const stored = await insertNew(tx, input, entries);
      // The session's working memory keeps its most recent entries only.
      const trimmed = await tx.execute<Record<string, unknown>[]>(
        `delete from "memory"."memory_entry" e
         where e."owner_id" = ? and e."session_id" = ? and e."tier" = 'WORKING' and e."id" not in (
           select k."id" from "memory"."memory_entry" k
           where k."owner_id" = ? and k."session_id" = ? and k."tier" = 'WORKING'
           order by k."id" desc limit ?)
         returning *`,
        [input.ownerId, input.sessionId, input.ownerId, input.sessionId, MEMORY_LIMITS.workingPerSession],
      );
      return { stored, trimmed: trimmed.map((row) => tx.map(MemoryEntry, row)) };
    });
    await publishMemoryEvents(ctx, MemoryEventKind.STORED, stored);
    await publishMemoryEvents(ctx, MemoryEventKind.DELETED, trimmed);
    return stored.length;
  }

  @Directive('@inaccessible')
  @Mutation(() => Int, { description: "Services: forget a closed session's working memory; how many." })
  async forgetSessionMemory(
    @Arg('ownerId', () => ID) ownerId: string,
    @Arg('sessionId', () => ID) sessionId: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<number> {
    requireSessions(ctx);
    const rows = await ctx.em.getConnection().execute<Record<string, unknown>[]>(
      `delete from "memory"."memory_entry"
       where "owner_id" = ? and "session_id" = ? and "tier" = 'WORKING' returning *`,
      [ownerId, sessionId],
    );
    await publishMemoryEvents(
      ctx,
      MemoryEventKind.DELETED,
      rows.map((row) => ctx.em.map(MemoryEntry, row)),
    );
    return rows.length;
  }
}
