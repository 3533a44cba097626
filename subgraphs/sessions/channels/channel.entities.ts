import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection, newId } from '../../../lib';

export enum ChannelName {
  TELEGRAM = 'telegram',
  WHATSAPP = 'whatsapp',
}
registerEnumType(ChannelName, {
  name: 'ChannelName',
  description: 'A messaging channel the platform answers on.',
});

export enum ChannelDeliveryState {
  /** Being sent (or a replay being sent again). */
  PENDING = 'PENDING',
  SENT = 'SENT',
  /** The channel's API refused it or did not answer: a dead letter until replayed. */
  FAILED = 'FAILED',
}
registerEnumType(ChannelDeliveryState, { name: 'ChannelDeliveryState' });

/**
 * A message a channel's webhook delivered. Its `externalId` (Telegram's update_id, WhatsApp's message
 * id) is unique per channel, so a delivery the channel repeats is answered once.
 */
@Entity({ tableName: 'channel_inbound' })
export class ChannelInbound {
  [OptionalProps]?: 'id' | 'sessionId' | 'turnId' | 'error' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId('chin');

  @Property({ type: 'string' })
  channel!: ChannelName;

  @Property({ type: 'string' })
  externalId!: string;

  /** Whom to answer: Telegram's chat id, WhatsApp's sender (wa_id). */
  @Property({ type: 'string' })
  chatId!: string;

  /** The bound account the turn runs as. */
  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'string', nullable: true })
  sessionId: string | null = null;

  @Property({ type: 'string', nullable: true })
  turnId: string | null = null;

  /** Why no answer could be made (the turn could not start or failed). */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Property({ type: 'Date' })
  updatedAt: Date = new Date();
}

@ObjectType({ description: 'An answer sent (or to be sent) back through a messaging channel.' })
@Entity({ tableName: 'channel_outbound' })
export class ChannelOutbound {
  [OptionalProps]?:
    'id' | 'inboundId' | 'state' | 'attempts' | 'lastStatusCode' | 'lastError' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('chout');

  @Field(() => ChannelName)
  @Property({ type: 'string' })
  channel!: ChannelName;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field({ description: 'The chat (Telegram) or phone number (WhatsApp) it goes to.' })
  @Property({ type: 'string' })
  recipientId!: string;

  @Field()
  @Property({ type: 'text' })
  content!: string;

  @Property({ type: 'string', nullable: true })
  inboundId: string | null = null;

  @Field(() => ChannelDeliveryState)
  @Property({ type: 'string' })
  state: ChannelDeliveryState = ChannelDeliveryState.PENDING;

  @Field(() => Int)
  @Property({ type: 'integer' })
  attempts: number = 0;

  @Field(() => Int, { nullable: true, description: "The channel API's HTTP status on the last attempt." })
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
}

@ObjectType()
export class ChannelOutboundConnection extends Connection(ChannelOutbound) {}

@ObjectType({ description: 'One adapter as Ironclad reports it (GET /api/channels/status).' })
export class ChannelAdapterStatus {
  @Field(() => ChannelName)
  name!: ChannelName;

  @Field({ description: 'Its settings are complete, so its webhook is answered.' })
  configured!: boolean;

  @Field(() => Int)
  messagesReceived!: number;

  @Field(() => Int)
  messagesSent!: number;

  @Field(() => Int, {
    description: 'Answers that could not be sent, and messages that could not be answered.',
  })
  errors!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  lastInboundAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastOutboundAt!: Date | null;
}

@ObjectType({
  description: 'What a channel webhook took: new messages (answered in the background) and repeats.',
})
export class ChannelReceipt {
  @Field(() => Int)
  accepted!: number;

  @Field(() => Int)
  duplicates!: number;
}
