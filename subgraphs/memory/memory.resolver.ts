import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { AgentReference, Connection, PageArgs, paginate, reference, type SubgraphContext } from '../../lib';
import { MemoryEntry } from './memory.entity';
import { StoreMemoryInput, validateStoreMemory } from './memory.input';

@ObjectType()
class MemoryEntryConnection extends Connection(MemoryEntry) {}

@Resolver(() => MemoryEntry)
export class MemoryResolver {
  @Query(() => MemoryEntry, { description: 'One memory entry by id.' })
  memory(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<MemoryEntry> {
    return ctx.get(MemoryEntry, id);
  }

  @Query(() => MemoryEntryConnection, {
    description: "Memory entries, newest first, optionally one agent's.",
  })
  memories(
    @Args() page: PageArgs,
    @Arg('agentId', () => ID, { nullable: true }) agentId: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntryConnection> {
    return paginate(ctx.em, MemoryEntry, agentId ? { agentId } : {}, page);
  }

  @Mutation(() => MemoryEntry, { description: 'Remember something for an agent.' })
  async storeMemory(
    @Arg('input') input: StoreMemoryInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<MemoryEntry> {
    const entry = ctx.em.create(MemoryEntry, validateStoreMemory(input));
    await ctx.em.flush();
    return entry;
  }

  @FieldResolver(() => AgentReference, { description: 'The agent this memory belongs to.' })
  agent(@Root() entry: MemoryEntry) {
    return reference(entry.agentId);
  }
}
