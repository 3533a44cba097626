import { Directive, Field, ID, ObjectType } from 'type-graphql';

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

export const reference = (id: string) => ({ id });
