import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AgentReference,
  Connection,
  PageArgs,
  paginate,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { MemoryEntry } from './memory.entity';
import { StoreMemoryInput, validateStoreMemory } from './memory.input';

@ObjectType()
class MemoryEntryConnection extends Connection(MemoryEntry) {}

@Resolver(() => MemoryEntry)
export class MemoryResolver {
  @RequiresScopes('memory')
  @Query(() => MemoryEntry, { description: 'One of your memory entries by id.' })
  memory(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<MemoryEntry> {
    return ctx.getOwned(MemoryEntry, id, (entry) => entry.ownerId);
  }

  @RequiresScopes('memory')
  @Query(() => MemoryEntryConnection, {
    description: "Your memory entries, newest first, optionally one agent's.",
  })
  memories(
    @Args() page: PageArgs,
    @Arg('agentId', () => ID, { nullable: true }) agentId: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntryConnection> {
    return paginate(
      ctx.em,
      MemoryEntry,
      { ...ctx.ownedWhere('ownerId'), ...(agentId ? { agentId } : {}) },
      page,
    );
  }

  @RequiresScopes('memory')
  @Mutation(() => MemoryEntry, { description: 'Remember something for an agent.' })
  async storeMemory(
    @Arg('input') input: StoreMemoryInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntry> {
    const values = validateStoreMemory(input);
    await ctx.references.require('Agent', values.agentId, 'agentId');
    const entry = ctx.em.create(MemoryEntry, { ...values, ownerId: ctx.me().accountId });
    await ctx.em.flush();
    return entry;
  }

  @FieldResolver(() => AgentReference, {
    nullable: true,
    description: 'The agent this memory belongs to; null once that agent is gone.',
  })
  agent(@Root() entry: MemoryEntry, @Ctx() ctx: SubgraphContext) {
    return ctx.references.linked('Agent', entry.agentId);
  }
}
