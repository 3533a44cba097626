import type { EntityManager, Logger, PubSub } from '../../../lib';
import {
  assetDecimals,
  ledgerAccountId,
  ownerOfParty,
  SystemAccountRole,
  type Party,
} from './ledger.accounts';
import { applyTransfer, type TransferRequest, type TransferResult } from './ledger.engine';
import { publishBalanceChanges } from './ledger.events';
import { TransferKind } from './transfer.entity';
import { checkAmount, checkMemo, checkTimeout, checkTransferId } from './transfer.input';

/**
 * What other subgraphs (through the internal mutations), admins and jobs ask of the ledger. Each
 * call validates its input, applies one transfer, publishes its balance changes after commit and
 * answers the stored transfer, also when the same id and content come again.
 */

export interface LedgerDeps {
  em: EntityManager;
  pubsub: PubSub;
  log: Logger;
}

export interface MoveInput {
  id: string;
  from: Party;
  to: Party;
  asset: string;
  amountMinor: bigint;
  memo?: string | null;
}

export interface HoldInput extends MoveInput {
  timeoutSeconds?: number | null;
}

export interface ResolveInput {
  id: string;
  pendingId: string;
  /** Post only: the part posted; all of it when left out. */
  amountMinor?: bigint | null;
  memo?: string | null;
}

async function apply(deps: LedgerDeps, request: TransferRequest): Promise<TransferResult> {
  const result = await applyTransfer(deps.em, request);
  if (result.created) await publishBalanceChanges(deps, result.entries);
  return result;
}

async function moveRequest(deps: LedgerDeps, kind: TransferKind, input: MoveInput): Promise<TransferRequest> {
  const id = checkTransferId(input.id);
  const amount = checkAmount(input.amountMinor);
  const memo = checkMemo(input.memo);
  const debitOwner = ownerOfParty(input.from, 'from');
  const creditOwner = ownerOfParty(input.to, 'to');
  await assetDecimals(deps.em, input.asset);
  const [debitAccountId, creditAccountId] = await Promise.all([
    ledgerAccountId(deps.em, debitOwner, input.asset),
    ledgerAccountId(deps.em, creditOwner, input.asset),
  ]);
  return { id, kind, debitAccountId, creditAccountId, amount, memo };
}

/** Moves money at once (TigerBeetle's single-phase transfer). */
export async function transferNow(deps: LedgerDeps, input: MoveInput): Promise<TransferResult> {
  return apply(deps, await moveRequest(deps, TransferKind.SINGLE, input));
}

/** Holds money: it leaves the payer's available balance until posted, voided or expired. */
export async function holdFunds(deps: LedgerDeps, input: HoldInput): Promise<TransferResult> {
  const timeoutSeconds = checkTimeout(input.timeoutSeconds);
  return apply(deps, { ...(await moveRequest(deps, TransferKind.PENDING, input)), timeoutSeconds });
}

function resolveRequest(kind: TransferKind, input: ResolveInput): TransferRequest {
  return {
    id: checkTransferId(input.id),
    kind,
    pendingId: checkTransferId(input.pendingId, 'pendingId'),
    amount:
      input.amountMinor === null || input.amountMinor === undefined
        ? undefined
        : checkAmount(input.amountMinor),
    memo: checkMemo(input.memo),
  };
}

/** Posts a hold, all of it or part (the rest goes back to the payer). */
export function postHold(deps: LedgerDeps, input: ResolveInput): Promise<TransferResult> {
  return apply(deps, resolveRequest(TransferKind.POST, input));
}

/** Voids a hold: all of it goes back to the payer. */
export function voidHold(
  deps: LedgerDeps,
  input: Omit<ResolveInput, 'amountMinor'>,
): Promise<TransferResult> {
  return apply(deps, resolveRequest(TransferKind.VOID, { ...input, amountMinor: undefined }));
}

/** Credits an account from deposits clearing (operators, tests). */
export function grantCredits(
  deps: LedgerDeps,
  input: { id: string; accountId: string; asset: string; amountMinor: bigint; memo?: string | null },
): Promise<TransferResult> {
  return transferNow(deps, {
    ...input,
    from: { system: SystemAccountRole.DEPOSITS_CLEARING },
    to: { accountId: input.accountId },
  });
}
