import { Directive, Field, ID, InputType, Int } from 'type-graphql';
import { badInput, BigIntScalar, checkMinorUnits, isUnsafeText, MAX_AMOUNT_MINOR } from '../../../lib';
import { SystemAccountRole, type Party } from './ledger.accounts';

/** A transfer id is its requester's idempotency key: short, and safe to log and put in a URL. */
const TRANSFER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_MEMO = 256;
/** The longest a hold may wait for its post or void before the sweeper expires it: 30 days. */
export const MAX_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;

export function checkTransferId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !TRANSFER_ID.test(id))
    throw badInput(`${field} must be 1 to 64 letters, digits or _ . : -, starting with a letter or digit`, {
      field,
    });
  return id;
}

export function checkMemo(memo: string | null | undefined): string | null {
  if (memo === null || memo === undefined) return null;
  // NUL and lone surrogates cannot be stored or sent on faithfully.
  if (memo.length > MAX_MEMO || isUnsafeText(memo))
    throw badInput(`memo must be at most ${MAX_MEMO} characters of text`, { field: 'memo' });
  return memo;
}

export const checkAmount = (amount: unknown, field = 'amountMinor') =>
  checkMinorUnits(amount, { field, max: MAX_AMOUNT_MINOR });

export function checkTimeout(seconds: number | null | undefined): number | undefined {
  if (seconds === null || seconds === undefined) return undefined;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS)
    throw badInput(`timeoutSeconds must be 1 to ${MAX_TIMEOUT_SECONDS}`, { field: 'timeoutSeconds' });
  return seconds;
}

@InputType({ description: 'Who pays or is paid: an account by id, or a system account.' })
@Directive('@inaccessible')
export class LedgerPartyInput implements Party {
  @Field(() => ID, { nullable: true })
  accountId?: string | null;

  @Field(() => SystemAccountRole, { nullable: true })
  system?: SystemAccountRole | null;
}

@InputType({ description: 'Move money at once. `id` is the idempotency key.' })
@Directive('@inaccessible')
export class LedgerTransferInput {
  @Field(() => ID)
  id!: string;

  @Field(() => LedgerPartyInput)
  from!: LedgerPartyInput;

  @Field(() => LedgerPartyInput)
  to!: LedgerPartyInput;

  @Field()
  asset!: string;

  @Field(() => BigIntScalar, { description: `Minor units, 1 to ${MAX_AMOUNT_MINOR}.` })
  amountMinor!: bigint;

  @Field(() => String, { nullable: true })
  memo?: string | null;
}

@InputType({ description: 'Hold money until it is posted or voided, or expires after timeoutSeconds.' })
@Directive('@inaccessible')
export class LedgerHoldInput extends LedgerTransferInput {
  @Field(() => Int, { nullable: true, description: `1 to ${MAX_TIMEOUT_SECONDS}; none: until resolved.` })
  timeoutSeconds?: number | null;
}

@InputType({ description: 'Resolve a hold: post (all or part of) it, or void it.' })
@Directive('@inaccessible')
export class LedgerResolveInput {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'The PENDING transfer resolved.' })
  pendingId!: string;

  @Field(() => BigIntScalar, { nullable: true, description: 'Post only: the part posted (default: all).' })
  amountMinor?: bigint | null;

  @Field(() => String, { nullable: true })
  memo?: string | null;
}

@InputType({ description: 'Credit an account from deposits clearing. `id` is the idempotency key.' })
export class GrantCreditsInput {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'The account credited.' })
  accountId!: string;

  @Field()
  asset!: string;

  @Field(() => BigIntScalar, { description: `Minor units, 1 to ${MAX_AMOUNT_MINOR}.` })
  amountMinor!: bigint;

  @Field(() => String, { nullable: true })
  memo?: string | null;
}
