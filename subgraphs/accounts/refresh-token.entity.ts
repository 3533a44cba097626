import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../lib';

/**
 * One link of a rotating refresh-token chain. Each use marks it used and issues the next link in
 * the same family; presenting a used link again means it leaked, and the whole family is revoked.
 */
@Entity({ tableName: 'refresh_token' })
export class RefreshToken {
  [OptionalProps]?: 'id' | 'createdAt' | 'usedAt' | 'revokedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId('rtk');

  @Property({ type: 'string' })
  familyId!: string;

  @Property({ type: 'string' })
  accountId!: string;

  @Property({ type: 'string', unique: true })
  tokenHash!: string;

  @Property({ type: 'Date' })
  expiresAt!: Date;

  @Property({ type: 'Date', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'Date', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
