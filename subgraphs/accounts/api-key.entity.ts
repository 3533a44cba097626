import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../lib';

export enum ApiKeyStatus {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(ApiKeyStatus, { name: 'ApiKeyStatus' });

/** A scoped credential for programs. The key itself is shown once; only its SHA-256 is kept. */
@ObjectType({ description: 'An API key, without its secret.' })
@Entity({ tableName: 'api_key' })
export class ApiKey {
  [OptionalProps]?: 'id' | 'createdAt' | 'expiresAt' | 'revokedAt' | 'lastUsedAt' | 'status';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('key');

  @Property({ type: 'string' })
  accountId!: string;

  @Field()
  @Property({ type: 'string' })
  name!: string;

  @Field({ description: 'The first characters of the key, to recognise it.' })
  @Property({ type: 'string' })
  prefix!: string;

  @Property({ type: 'string', unique: true, hidden: true })
  keyHash!: string;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  scopes!: string[];

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  revokedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  lastUsedAt: Date | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => ApiKeyStatus)
  get status(): ApiKeyStatus {
    if (this.revokedAt) return ApiKeyStatus.REVOKED;
    if (this.expiresAt && this.expiresAt <= new Date()) return ApiKeyStatus.EXPIRED;
    return ApiKeyStatus.ACTIVE;
  }
}
