import DataLoader from 'dataloader';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import type { SubgraphName } from './config';
import { AppError } from './errors';
import type { PeerCallOptions, Peers } from './peers';

/**
 * A stub of an entity another subgraph owns: only its key, so this subgraph can return it and the
 * router fetches the rest from the owner.
 */
function entityReference(typename: string) {
  @ObjectType(typename)
  @Directive('@key(fields: "id", resolvable: false)')
  class Reference {
    @Field(() => ID)
    id!: string;
  }
  return Reference;
}

export const AccountReference = entityReference('Account');
export const AgentReference = entityReference('Agent');
export const TaskReference = entityReference('Task');
export const SessionReference = entityReference('Session');

export const reference = (id: string) => ({ id });

/** The subgraph that owns each entity other subgraphs point at. */
export const REFERENCE_OWNERS = {
  Account: 'accounts',
  Agent: 'agents',
  Task: 'tasks',
  Session: 'sessions',
} as const satisfies Record<string, SubgraphName>;
export type ReferencedType = keyof typeof REFERENCE_OWNERS;

/** No id of ours is longer; a longer one cannot exist and is not worth a lookup. */
export const MAX_ID_LENGTH = 64;

const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }';

/**
 * Checks references to other subgraphs' entities when they are written: the owner answers, as the
 * caller, which of them exist and are visible to the caller. All checks of one request against one
 * type become one `_entities` call.
 */
export function createReferenceChecker(peers: Peers, options: () => PeerCallOptions) {
  const loaders = new Map<ReferencedType, DataLoader<string, boolean>>();
  const loaderOf = (typename: ReferencedType) => {
    let loader = loaders.get(typename);
    if (!loader) {
      loader = new DataLoader(async (ids: readonly string[]) => {
        const representations = ids.map((id) => ({ __typename: typename, id }));
        const { _entities } = await peers.request<{ _entities: (object | null)[] }>(
          REFERENCE_OWNERS[typename],
          ENTITIES,
          { r: representations },
          options(),
        );
        return ids.map((_, index) => _entities[index] != null);
      });
      loaders.set(typename, loader);
    }
    return loader;
  };
  return {
    /** Whether the entity exists and the caller may see it. */
    async exists(typename: ReferencedType, id: string): Promise<boolean> {
      if (!id || id.length > MAX_ID_LENGTH) return false;
      return loaderOf(typename).load(id);
    },
    /**
     * The stub a nullable field returns: null once the entity is gone (or hidden from the caller),
     * so one missing entity never fails a whole list. The router asks this subgraph for the key
     * alone and the owner for the rest, so only the owner can say whether it is still there.
     */
    async linked(typename: ReferencedType, id: string | null) {
      if (id === null) return null;
      return (await this.exists(typename, id)) ? { id } : null;
    },
    /** The id, or NOT_FOUND naming the field that pointed at nothing. */
    async require(typename: ReferencedType, id: string, field: string): Promise<string> {
      if (await this.exists(typename, id)) return id;
      const shown = id.length > MAX_ID_LENGTH ? `${id.slice(0, MAX_ID_LENGTH)}…` : id;
      throw new AppError('NOT_FOUND', `${field}: ${typename.toLowerCase()} ${shown} not found`, { field });
    },
  };
}

export type ReferenceChecker = ReturnType<typeof createReferenceChecker>;
