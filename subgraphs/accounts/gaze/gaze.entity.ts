import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../../lib';

/** 000's CSTB bar: a gaze session attests its account once it has counted this much gaze time. */
export const REQUIRED_GAZE_CENTISECONDS = 222;

export enum AttestationStatus {
  /** Gaze time is being gathered (or none was sent yet). */
  PENDING = 'PENDING',
  /** A session reached 222 cs; it vouches for the account until `expiresAt`. */
  VERIFIED = 'VERIFIED',
  /** The latest verification is past its TTL and no session has verified since. */
  EXPIRED = 'EXPIRED',
}
registerEnumType(AttestationStatus, { name: 'AttestationStatus' });

/** One gaze tensor sample (000's `POST /api/gaze/store`); every value is normalised to 0..1. */
@ObjectType({ description: 'A gaze sample: where the eyes were and the COG/EMO/ENV tensor, each 0 to 1.' })
@Entity({ tableName: 'gaze_sample' })
export class GazeSample {
  [OptionalProps]?: 'id';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('gaze');

  @Property({ type: 'string' })
  accountId!: string;

  @Field(() => ID, { description: 'The gaze session (attestation) the sample belongs to.' })
  @Property({ type: 'string' })
  attestationId!: string;

  @Field(() => Float)
  @Property({ type: 'double' })
  gazeX!: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  gazeY!: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  cogValue!: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  emoValue!: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  envValue!: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  confidence!: number;

  @Field(() => Int, {
    description: 'Gaze time this sample added to its session: the pause since the previous sample, in cs.',
  })
  @Property({ type: 'integer' })
  countedCs!: number;

  @Field()
  @Property({ type: 'Date' })
  createdAt!: Date;
}

/** Where an account's gaze attestation stands (000's `GET /api/attestation/status`). */
@ObjectType()
export class GazeAttestation {
  @Field(() => ID, { nullable: true, description: 'The gaze session it speaks of; null before any sample.' })
  id!: string | null;

  @Field(() => AttestationStatus)
  status!: AttestationStatus;

  @Field(() => Int, { description: 'Gaze time the session counted, in centiseconds.' })
  progressCs!: number;

  @Field(() => Int, { description: `Gaze time a session needs: ${REQUIRED_GAZE_CENTISECONDS} cs.` })
  requiredCs!: number;

  @Field(() => Int)
  sampleCount!: number;

  @Field(() => Date, { nullable: true })
  verifiedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
}
