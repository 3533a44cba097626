import { ArrayType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../lib';

export enum WebhookEndpointStatus {
  ACTIVE = 'ACTIVE',
  /** Turned off: the receiver answered 410 Gone, or an owner or admin said so. */
  DISABLED = 'DISABLED',
}
registerEnumType(WebhookEndpointStatus, { name: 'WebhookEndpointStatus' });

export enum WebhookDeliveryState {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  /** Every attempt of the retry schedule failed: a dead letter, until replayed. */
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryState, { name: 'WebhookDeliveryState' });

@ObjectType({ description: 'A URL that receives your task events, signed per Standard Webhooks.' })
@Entity({ tableName: 'webhook_endpoint' })
export class WebhookEndpoint {
  [OptionalProps]?: 'id' | 'description' | 'status' | 'disabledReason' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('whk');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'text' })
  url!: string;

  @Field(() => [String], { description: 'Event types delivered here (`task.created`, …), or `*`.' })
  @Property({ type: ArrayType })
  events!: string[];

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** Kept in clear because signing needs it; shown once at creation and never again. */
  @Property({ type: 'string', lazy: true, hidden: true })
  secret!: string;

  @Field(() => WebhookEndpointStatus)
  @Property({ type: 'string' })
  status: WebhookEndpointStatus = WebhookEndpointStatus.ACTIVE;

  @Field(() => String, { nullable: true, description: 'Why the endpoint was disabled.' })
  @Property({ type: 'text', nullable: true })
  disabledReason: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

@ObjectType({
  description: 'One event on its way to one endpoint: the delivery log and the dead-letter queue.',
})
@Entity({ tableName: 'webhook_delivery' })
export class WebhookDelivery {
  [OptionalProps]?:
    | 'id'
    | 'state'
    | 'attempts'
    | 'nextAttemptAt'
    | 'lastStatusCode'
    | 'lastError'
    | 'createdAt'
    | 'updatedAt'
    | 'deliveredAt';

  @Field(() => ID, { description: 'Also the `webhook-id` header, the same on every attempt.' })
  @PrimaryKey({ type: 'string' })
  id: string = newId('msg');

  @Field(() => ID)
  @Property({ type: 'string' })
  endpointId!: string;

  /** The endpoint's owner, copied so ownership checks and lists need no join. */
  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  eventType!: string;

  @Field({ description: 'The exact JSON body every attempt sends.' })
  @Property({ type: 'text' })
  payload!: string;

  @Field(() => WebhookDeliveryState)
  @Property({ type: 'string' })
  state: WebhookDeliveryState = WebhookDeliveryState.PENDING;

  @Field(() => Int)
  @Property({ type: 'integer' })
  attempts: number = 0;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due, while PENDING.' })
  @Property({ type: 'Date', nullable: true })
  nextAttemptAt: Date | null = new Date();

  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status on the last attempt." })
  @Property({ type: 'integer', nullable: true })
  lastStatusCode: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  deliveredAt: Date | null = null;
}
