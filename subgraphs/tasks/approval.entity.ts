import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../lib';

export enum ApprovalState {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  DENIED = 'DENIED',
}
registerEnumType(ApprovalState, { name: 'ApprovalState' });

@ObjectType({
  description: 'A task that waits for its creator (or an admin) to approve it before it can be claimed.',
})
@Entity({ tableName: 'approval_request' })
export class ApprovalRequest {
  [OptionalProps]?: 'id' | 'state' | 'decidedBy' | 'decidedAt' | 'reason' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('apr');

  @Field(() => ID)
  @Property({ type: 'string' })
  taskId!: string;

  @Field(() => ID, { description: 'The account that created the task.' })
  @Property({ type: 'string' })
  requestedBy!: string;

  @Field(() => ApprovalState)
  @Property({ type: 'string' })
  state: ApprovalState = ApprovalState.PENDING;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'string', nullable: true })
  decidedBy: string | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  decidedAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'Why it was denied.' })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
