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
  [OptionalProps]?: 'id' | 'role' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('acc');

  @Field()
  @Property({ type: 'string', unique: true })
  email!: string;

  @Field()
  @Property({ type: 'string' })
  displayName!: string;

  @Field(() => Role)
  @Property({ type: 'string' })
  role: Role = Role.USER;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
