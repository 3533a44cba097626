import { ArrayType, Entity, JsonType, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../../lib';

export enum DiscoveryMethod {
  /** Registered by its owner with a name and URL; unverified until its card is fetched. */
  MANUAL = 'MANUAL',
  /** Found by fetching the A2A card at its base URL's well-known path. */
  WELL_KNOWN = 'WELL_KNOWN',
}
registerEnumType(DiscoveryMethod, { name: 'DiscoveryMethod' });

/** A peer agent an owner knows of, verified when its A2A agent card was fetched and parsed. */
@ObjectType({ description: 'A peer agent you registered or discovered, verified by its A2A agent card.' })
@Entity({ tableName: 'discovered_agent' })
export class DiscoveredAgent {
  [OptionalProps]?:
    | 'id'
    | 'capabilities'
    | 'verified'
    | 'cardUrl'
    | 'card'
    | 'lastError'
    | 'verifiedAt'
    | 'lastSeenAt'
    | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('peer');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  name!: string;

  @Field({ description: 'Its base URL (or card URL), unique among your peers.' })
  @Property({ type: 'string' })
  url!: string;

  @Field(() => [String], { description: "Its skills' ids once verified; what you registered before." })
  @Property({ type: ArrayType })
  capabilities: string[] = [];

  @Field(() => DiscoveryMethod)
  @Property({ type: 'string' })
  method!: DiscoveryMethod;

  @Field({ description: 'Whether its A2A card was last fetched and parsed as an AgentCard.' })
  @Property({ type: 'boolean' })
  verified: boolean = false;

  @Field(() => String, { nullable: true, description: 'Where its card was found.' })
  @Property({ type: 'string', nullable: true })
  cardUrl: string | null = null;

  /** The card as fetched (bounded), kept for its skills and interfaces. */
  @Property({ type: JsonType, nullable: true })
  card: Record<string, unknown> | null = null;

  @Field(() => String, {
    nullable: true,
    description: 'Why the last verification failed; null after a success.',
  })
  @Property({ type: 'string', nullable: true })
  lastError: string | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  verifiedAt: Date | null = null;

  @Field(() => Date, { nullable: true, description: 'When its card last answered.' })
  @Property({ type: 'Date', nullable: true })
  lastSeenAt: Date | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
