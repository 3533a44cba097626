import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../lib';

export enum Role {
  USER = 'USER',
  ADMIN = 'ADMIN',
}
registerEnumType(Role, { name: 'Role' });

/** A person or organisation using the platform: owns agents, sessions, tasks and wallets. */
@ObjectType({ description: 'An account on the platform.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'account' })
export class Account {
  [OptionalProps]?: 'id' | 'role' | 'createdAt' | 'passwordHash' | 'emailVerifiedAt' | 'verificationSentAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('acc');

  /** Exposed through a field resolver: only the account itself and admins see it. */
  @Property({ type: 'string', unique: true })
  email!: string;

  @Field()
  @Property({ type: 'string' })
  displayName!: string;

  @Field(() => Role)
  @Property({ type: 'string' })
  role: Role = Role.USER;

  /** scrypt; null for accounts that only ever use API keys (the bootstrap admin). */
  @Property({ type: 'string', nullable: true, hidden: true })
  passwordHash: string | null = null;

  /** When the address was proven by a verification link; shown as `emailVerified` (own or admin). */
  @Property({ type: 'Date', nullable: true })
  emailVerifiedAt: Date | null = null;

  /** When the last verification link was sent: one a minute. */
  @Property({ type: 'Date', nullable: true, hidden: true })
  verificationSentAt: Date | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
