import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  AgentReference,
  Connection,
  deleteReturning,
  notFound,
  PageArgs,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import {
  MemoryCount,
  MemoryEntry,
  MemoryEvent,
  MemoryEventKind,
  MemorySearchResult,
  MemoryStats,
  MemoryTier,
} from './memory.entity';
import { fromPayload, memoryTopic, publishMemoryEvents } from './memory.events';
import {
  boundedInt,
  checkFilter,
  MEMORY_LIMITS,
  MemoryFilter,
  queryOf,
  SearchMemoryArgs,
  StoreMemoryInput,
  validateStoreMemory,
} from './memory.input';
import { listMemories, memoryCategories, memoryStats, recallMemories, searchMemories } from './memory.search';

@ObjectType()
class MemoryEntryConnection extends Connection(MemoryEntry) {}

/** Memory is private to the account that stored it, admins included: every read is the caller's own. */
const ownerOf = (ctx: SubgraphContext) => ctx.me().accountId;

/** Whether a search's selection asks for `hits { snippet }` (through fragments too). */
function selectsSnippets(info: GraphQLResolveInfo): boolean {
  const fieldsOf = (set: SelectionSetNode | undefined, name: string): SelectionSetNode[] =>
    (set?.selections ?? []).flatMap((selection) => {
      if (selection.kind === Kind.FIELD)
        return selection.name.value === name
          ? [selection.selectionSet ?? { kind: Kind.SELECTION_SET, selections: [] }]
          : [];
      const inner =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : info.fragments[selection.name.value]?.selectionSet;
      return fieldsOf(inner, name);
    });
  return info.fieldNodes.some((node) =>
    fieldsOf(node.selectionSet, 'hits').some((hits) => fieldsOf(hits, 'snippet').length > 0),
  );
}

@Resolver(() => MemoryEntry)
export class MemoryResolver {
  @RequiresScopes('memory')
  @Query(() => MemoryEntry, { description: 'One of your memory entries by id.' })
  async memory(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<MemoryEntry> {
    const entry = await ctx.load(MemoryEntry, id);
    if (!entry || entry.ownerId !== ownerOf(ctx)) throw notFound('MemoryEntry', id);
    return entry;
  }

  @RequiresScopes('memory')
  @Query(() => MemoryEntryConnection, {
    description: 'Your memory entries, newest first, narrowed by agent or by filter.',
  })
  memories(
    @Args() page: PageArgs,
    @Arg('agentId', () => ID, { nullable: true }) agentId: string | undefined,
    @Arg('filter', () => MemoryFilter, { nullable: true }) filter: MemoryFilter | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntryConnection> {
    const checked = checkFilter(filter);
    return listMemories(ctx.em, ownerOf(ctx), agentId ? { ...checked, agentId } : checked, page);
  }

  @RequiresScopes('memory')
  @Query(() => MemorySearchResult, {
    description:
      'Ranked search of your memory: full text (websearch syntax) and, for typos, word similarity; ' +
      'weighted by importance and recency, with a snippet of each hit.',
  })
  async searchMemory(
    @Args() args: SearchMemoryArgs,
    @Ctx() ctx: SubgraphContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MemorySearchResult> {
    const query = queryOf(args.query);
    const outcome = await searchMemories(
      ctx.em,
      ownerOf(ctx),
      query,
      checkFilter(args.filter),
      {
        limit: boundedInt(args.limit, 'limit', 1, MEMORY_LIMITS.searchResults),
        offset: boundedInt(args.offset, 'offset', 0, 10_000),
      },
      selectsSnippets(info),
    );
    return { ...outcome, query };
  }

  @RequiresScopes('memory')
  @Mutation(() => MemorySearchResult, {
    description: 'The top few matches of a search, each marked as recalled (time and count).',
  })
  async recallMemory(
    @Arg('query') query: string,
    @Arg('limit', () => Int, { defaultValue: 5 }) limit: number,
    @Arg('filter', () => MemoryFilter, { nullable: true }) filter: MemoryFilter | undefined,
    @Ctx() ctx: SubgraphContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MemorySearchResult> {
    const checked = queryOf(query);
    const outcome = await recallMemories(
      ctx.em,
      ownerOf(ctx),
      checked,
      checkFilter(filter),
      boundedInt(limit, 'limit', 1, MEMORY_LIMITS.recallResults),
      selectsSnippets(info),
    );
    return { ...outcome, query: checked };
  }

  @RequiresScopes('memory')
  @Query(() => MemoryStats, { description: 'Figures of your memory and the health of its search indexes.' })
  memoryStats(@Ctx() ctx: SubgraphContext): Promise<MemoryStats> {
    return memoryStats(ctx.em, ownerOf(ctx));
  }

  @RequiresScopes('memory')
  @Query(() => [MemoryCount], { description: 'The categories of one tier of your memory, most used first.' })
  memoryCategories(
    @Arg('tier', () => MemoryTier, { defaultValue: MemoryTier.SEMANTIC }) tier: MemoryTier,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryCount[]> {
    return memoryCategories(ctx.em, ownerOf(ctx), tier);
  }

  @RequiresScopes('memory')
  @Mutation(() => MemoryEntry, { description: 'Remember something (a fact is SEMANTIC, the default).' })
  async storeMemory(
    @Arg('input') input: StoreMemoryInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntry> {
    const values = validateStoreMemory(input);
    await Promise.all([
      values.agentId !== null && ctx.references.require('Agent', values.agentId, 'agentId'),
      values.sessionId !== null && ctx.references.require('Session', values.sessionId, 'sessionId'),
    ]);
    const entry = ctx.em.create(MemoryEntry, { ...values, ownerId: ownerOf(ctx) });
    await ctx.em.flush();
    await publishMemoryEvents(ctx, MemoryEventKind.STORED, [entry]);
    return entry;
  }

  @RequiresScopes('memory')
  @Mutation(() => MemoryEntry, { description: 'Forget one of your entries; answers what it was.' })
  async deleteMemory(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<MemoryEntry> {
    const [deleted] = await deleteReturning(ctx.em, MemoryEntry, { id, ownerId: ownerOf(ctx) });
    if (!deleted) throw notFound('MemoryEntry', id);
    await publishMemoryEvents(ctx, MemoryEventKind.DELETED, [deleted]);
    return deleted;
  }

  @RequiresScopes('memory')
  @Subscription(() => MemoryEvent, {
    description: 'Your memory entries as they are stored and deleted (the content cut to 1,000 characters).',
    subscribe: ({ context }: SubscribeResolverData<unknown, object, SubgraphContext>) =>
      context.pubsub.subscribe(memoryTopic(ownerOf(context))),
  })
  memoryEvents(@Root() payload: Parameters<typeof fromPayload>[0]): MemoryEvent {
    return fromPayload(payload);
  }

  @FieldResolver(() => AgentReference, {
    nullable: true,
    description: 'The agent this memory belongs to; null once that agent is gone.',
  })
  agent(@Root() entry: MemoryEntry, @Ctx() ctx: SubgraphContext) {
    return ctx.references.linked('Agent', entry.agentId);
  }
}
