import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../../../lib';

/** An EVM address an account proved it controls: deposits sent from it are credited to that account. */
@ObjectType({ description: 'An EVM address linked to your account: USDC it sends to the vault is yours.' })
@Entity({ tableName: 'deposit_address' })
export class DepositAddressLink {
  [OptionalProps]?: 'id' | 'linkedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('dal');

  @Field({ description: 'The address, lower case.' })
  @Property({ type: 'string' })
  @Unique()
  address!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'Date' })
  linkedAt: Date = new Date();
}

/** What to sign to link an address: the message, once, before it expires. */
@ObjectType({
  description: 'Sign `message` with the address (EIP-191 personal_sign), then linkDepositAddress.',
})
export class AddressChallenge {
  @Field()
  id!: string;

  @Field({ description: 'The address to link, lower case.' })
  address!: string;

  @Field({ description: 'The exact text to sign.' })
  message!: string;

  @Field()
  expiresAt!: Date;
}
