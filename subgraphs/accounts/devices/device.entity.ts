import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { createHash } from 'node:crypto';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../../lib';

export enum DeviceState {
  /** Presented a pairing code and its key; has not yet signed the challenge. */
  PENDING = 'PENDING',
  /** Proved it holds the key it paired with: trusted. */
  VERIFIED = 'VERIFIED',
}
registerEnumType(DeviceState, { name: 'DeviceState' });

/** A pairing code an owner started: only its SHA-256 is kept; presenting it deletes the row. */
@Entity({ tableName: 'device_pairing_code' })
export class DevicePairingCode {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'Date' })
  expiresAt!: Date;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

/** A device paired with an account by a code, trusted once it signed the server's challenge. */
@ObjectType({
  description: 'A device paired with your account (Ed25519 key, verified by a signed challenge).',
})
@Entity({ tableName: 'device' })
export class Device {
  [OptionalProps]?:
    'id' | 'challenge' | 'challengeExpiresAt' | 'pairedAt' | 'lastSeenAt' | 'createdAt' | 'fingerprint';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('dev');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  name!: string;

  @Field({ description: 'The Ed25519 public key it paired with: 32 bytes as 64 hex digits.' })
  @Property({ type: 'string' })
  publicKeyHex!: string;

  @Field(() => DeviceState)
  @Property({ type: 'string' })
  state!: DeviceState;

  /** The nonce the device must sign; null once verified. */
  @Property({ type: 'string', nullable: true })
  challenge: string | null = null;

  @Property({ type: 'Date', nullable: true })
  challengeExpiresAt: Date | null = null;

  @Field(() => Date, { nullable: true, description: 'When it proved its key; null while pending.' })
  @Property({ type: 'Date', nullable: true })
  pairedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  lastSeenAt: Date | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => String, {
    description: 'The first 8 bytes of the SHA-256 of publicKeyHex, in hex (as Ironclad prints it).',
  })
  get fingerprint(): string {
    return createHash('sha256').update(this.publicKeyHex).digest('hex').slice(0, 16);
  }
}
