import { createHash } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Hash } from './evm';
import { AppError, badInput, conflict, loadConfig, newId, parseAmount } from '../../../lib';
import { Deposit, DepositSource } from './deposit.entity';
import { verifyDeposit } from './deposit.verifier';
import { requireLinkedSender } from './deposit-address.service';
import { SOLANA_SIGNATURE, solanaVerifier, type PaymentProofVerifier } from '../solana.verifier';
import { ledgerAccountId, SystemAccountRole, systemOwnerId } from '../ledger/ledger.accounts';
import { applyTransfersIn } from '../ledger/ledger.engine';
import { publishBalanceChanges } from '../ledger/ledger.events';
import type { LedgerDeps } from '../ledger/ledger.service';
import {
  CREDITS_ASSET,
  MAXIMUM_TEST_CREDIT_MINOR,
  MINIMUM_DEPOSIT_MINOR,
  paymentSettings,
} from '../payments.settings';
import { TransferKind } from '../ledger/transfer.entity';
import {
  parsePaymentSignature,
  paymentIdOf,
  paymentResponseHeader,
  settleX402,
  x402Rail,
  X402_ASSET,
} from '../x402.rail';

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

interface NewDeposit {
  ownerId: string;
  /** CREDITS_ASSET unless named (SOL for a Solana payment). */
  asset?: string;
  source: DepositSource;
  amountMinor: bigint;
  /** The ledger transfer's id: the chain transaction for ONCHAIN, so a replay cannot credit twice. */
  transferId: string;
  txHash?: string;
  fromAddress?: string;
  blockNumber?: bigint;
}

const alreadyClaimed = (txHash: string) =>
  conflict('this transaction has already been credited', { field: 'txHash', txHash });

/**
 * Credits a deposit from deposits clearing and records it, in one database transaction: either
 * both are written or neither. Balance events go out after commit.
 */
async function creditDeposit(deps: LedgerDeps, input: NewDeposit): Promise<Deposit> {
  // Opened (and cached) outside the transaction, so a rollback cannot leave a cached id behind.
  const [debitAccountId, creditAccountId] = await Promise.all([
    ledgerAccountId(
      deps.em,
      systemOwnerId(SystemAccountRole.DEPOSITS_CLEARING),
      input.asset ?? CREDITS_ASSET,
    ),
    ledgerAccountId(deps.em, input.ownerId, input.asset ?? CREDITS_ASSET),
  ]);
  let entries;
  let deposit: Deposit;
  try {
    [entries, deposit] = await deps.em.transactional(async (em) => {
      const [result] = await applyTransfersIn(em, [
        {
          id: input.transferId,
          kind: TransferKind.SINGLE,
          debitAccountId,
          creditAccountId,
          amount: input.amountMinor,
          memo: input.txHash ? `deposit ${input.txHash}` : 'test credits',
        },
      ]);
      if (result instanceof AppError) throw result;
      // The transfer's id is the chain transaction: it existing already means it was credited.
      if (!result.created) throw alreadyClaimed(input.txHash ?? input.transferId);
      const row = em.create(Deposit, {
        id: newId('dep'),
        ownerId: input.ownerId,
        source: input.source,
        asset: input.asset ?? CREDITS_ASSET,
        amountMinor: input.amountMinor,
        txHash: input.txHash ?? null,
        fromAddress: input.fromAddress ?? null,
        blockNumber: input.blockNumber ?? null,
        transferId: input.transferId,
        createdAt: new Date(),
      });
      await em.flush();
      return [result.entries, row] as const;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw alreadyClaimed(input.txHash ?? '');
    // Another account's claim of the same transaction is a transfer of other content under its id.
    if (error instanceof AppError && error.extensions.code === 'CONFLICT' && input.txHash)
      throw alreadyClaimed(input.txHash);
    throw error;
  }
  await publishBalanceChanges(deps, entries);
  return deposit;
}

/**
 * 003's `POST /credits/deposit`: credits the USDC a chain transaction sent to the credit vault,
 * once per transaction, after the EVM node confirms it.
 */
export async function claimOnChainDeposit(deps: LedgerDeps, ownerId: string, txHash: unknown) {
  if (typeof txHash !== 'string' || !TX_HASH.test(txHash))
    throw badInput('txHash must be a transaction hash: 0x and 64 hex digits', { field: 'txHash' });
  const hash = txHash.toLowerCase() as Hash;
  const settings = paymentSettings();
  if (!settings.EVM_RPC_URL || !settings.CREDIT_VAULT_ADDRESS)
    throw new AppError('UPSTREAM_UNAVAILABLE', 'on-chain deposits are not configured on this platform');
  // Answer a replay before asking the chain again.
  if (await deps.em.findOne(Deposit, { txHash: hash }, { fields: ['id'] })) throw alreadyClaimed(hash);
  const paid = await verifyDeposit(
    {
      rpcUrl: settings.EVM_RPC_URL,
      vault: settings.CREDIT_VAULT_ADDRESS as Hash,
      token: settings.USDC_CONTRACT_ADDRESS as Hash,
      confirmations: settings.DEPOSIT_CONFIRMATIONS,
    },
    hash,
  );
  // Whoever saw the hash is not whoever paid: only the account that linked the sender is credited.
  await requireLinkedSender(deps.em, ownerId, paid.from);
  if (paid.amount < MINIMUM_DEPOSIT_MINOR)
    throw badInput('the minimum deposit is 5.00 USDC; smaller transfers are not credited', {
      field: 'txHash',
      amountMinor: paid.amount.toString(),
    });
  return creditDeposit(deps, {
    ownerId,
    source: DepositSource.ONCHAIN,
    amountMinor: paid.amount,
    transferId: hash.slice(2), // 64 hex digits: the longest id a transfer may have
    txHash: hash,
    fromAddress: paid.from.toLowerCase(),
    blockNumber: paid.blockNumber,
  });
}

/** 003's `POST /credits/deposit-test`: credits without a chain, only where ENABLE_TEST_CREDITS=true. */
export async function grantTestDeposit(deps: LedgerDeps, ownerId: string, amountMinor: unknown) {
  if (paymentSettings().ENABLE_TEST_CREDITS !== 'true')
    throw new AppError('FORBIDDEN', 'test credits are disabled on this platform (ENABLE_TEST_CREDITS)');
  const amount =
    typeof amountMinor === 'bigint'
      ? amountMinor
      : parseAmount(amountMinor, 0, { field: 'amountMinor', max: MAXIMUM_TEST_CREDIT_MINOR });
  if (amount <= 0n || amount > MAXIMUM_TEST_CREDIT_MINOR)
    throw badInput('amountMinor must be from 1 to 10000.00 USD in micro-dollars', { field: 'amountMinor' });
  const id = newId('dep');
  return creditDeposit(deps, { ownerId, source: DepositSource.TEST, amountMinor: amount, transferId: id });
}

/** The configured Solana proof verifier, or UPSTREAM_UNAVAILABLE when the rail is not set up here. */
function solanaRail(): { verifier: PaymentProofVerifier; payTo: string } {
  const config = loadConfig();
  if (!config.SOLANA_RPC_URL || !config.SOLANA_ESCROW_ADDRESS)
    throw new AppError('UPSTREAM_UNAVAILABLE', 'Solana payments are not configured on this platform');
  return {
    verifier: solanaVerifier({ rpcUrl: config.SOLANA_RPC_URL, commitment: config.SOLANA_COMMITMENT }),
    payTo: config.SOLANA_ESCROW_ADDRESS,
  };
}

/**
 * hermesx402's payment proof: the SOL a transaction sent to the platform's escrow address, credited
 * to the payer's SOL account from deposits clearing, once per signature. The same payer sending the
 * same signature again is answered the recorded deposit (a retried hire); another account's claim of
 * it is a CONFLICT. Whether the amount covers a price is the caller's question.
 */
export async function claimSolanaPayment(deps: LedgerDeps, ownerId: string, signature: unknown) {
  if (typeof signature !== 'string' || !SOLANA_SIGNATURE.test(signature))
    throw badInput('X-Payment-Proof must be a Solana transaction signature (base58)', {
      field: 'X-Payment-Proof',
    });
  const recorded = await deps.em.findOne(Deposit, { txHash: signature });
  if (recorded) {
    if (recorded.ownerId !== ownerId || recorded.source !== DepositSource.SOLANA)
      throw alreadyClaimed(signature);
    return recorded;
  }
  const { verifier, payTo } = solanaRail();
  const paid = await verifier.verify(signature, payTo);
  try {
    return await creditDeposit(deps, {
      ownerId,
      asset: 'SOL',
      source: DepositSource.SOLANA,
      amountMinor: paid.amountMinor,
      // A signature is longer than a transfer id may be; its digest is as unique.
      transferId: `sol_${createHash('sha256').update(signature).digest('hex').slice(0, 56)}`,
      txHash: signature,
      fromAddress: paid.from ?? undefined,
      blockNumber: paid.slot ?? undefined,
    });
  } catch (error) {
    // The same payer's concurrent retry recorded it first: answer that record.
    const again = await deps.em.fork().findOne(Deposit, { txHash: signature });
    if (again && again.ownerId === ownerId && again.source === DepositSource.SOLANA) return again;
    throw error;
  }
}

/** An x402 v2 payment as the hire sees it: the deposit it made and the `PAYMENT-RESPONSE` header. */
export interface X402Payment {
  deposit: Deposit;
  paymentResponse: string;
}

/** The settlement a recorded deposit came from, as the PAYMENT-RESPONSE of a retried hire. */
const recordedResponse = (deposit: Deposit) =>
  paymentResponseHeader({
    success: true,
    transaction: deposit.txHash ?? '',
    network: (x402Rail()?.X402_NETWORK ?? 'eip155:8453') as `${string}:${string}`,
    payer: deposit.fromAddress ?? undefined,
    amount: deposit.amountMinor.toString(),
  });

/**
 * x402 v2: a `PAYMENT-SIGNATURE` for exactly `amountMinor` USDC units, verified and settled by the
 * facilitator, credited to the payer's USDC account from deposits clearing, once per payment (its
 * id is the ledger transfer) and once per settled transaction. The same payer sending the same
 * payment again is answered the recorded deposit without asking the facilitator; another account's
 * claim of it is a CONFLICT.
 */
export async function claimX402Payment(
  deps: LedgerDeps,
  ownerId: string,
  header: string,
  amountMinor: bigint,
): Promise<X402Payment> {
  const payload = parsePaymentSignature(header);
  const transferId = paymentIdOf(payload);
  const answer = (deposit: Deposit) => {
    if (deposit.ownerId !== ownerId || deposit.source !== DepositSource.X402)
      throw conflict('this payment has already been credited', { field: 'PAYMENT-SIGNATURE' });
    return { deposit, paymentResponse: recordedResponse(deposit) };
  };
  const recorded = await deps.em.findOne(Deposit, { transferId });
  if (recorded) return answer(recorded);
  const settled = await settleX402(payload, amountMinor);
  try {
    const deposit = await creditDeposit(deps, {
      ownerId,
      asset: X402_ASSET,
      source: DepositSource.X402,
      amountMinor,
      transferId,
      txHash: settled.transaction.toLowerCase(),
      fromAddress: settled.payer?.toLowerCase(),
    });
    return { deposit, paymentResponse: paymentResponseHeader(settled) };
  } catch (error) {
    // The same payer's concurrent retry recorded it first: answer that record.
    const again = await deps.em.fork().findOne(Deposit, { transferId });
    if (again) return answer(again);
    throw error;
  }
}
