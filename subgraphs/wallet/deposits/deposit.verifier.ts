import { viem, type Address, type Hash } from './evm';
import { AppError, badInput } from '../../../lib';

/** The ERC-20 event every USDC movement emits. */
const transferEvent = () =>
  viem().parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

export interface DepositCheck {
  rpcUrl: string;
  vault: Address;
  token: Address;
  confirmations: number;
  timeoutMs?: number;
}

export interface VerifiedDeposit {
  /** Token units (6 decimals for USDC) sent to the vault by the transaction, all its transfers summed. */
  amount: bigint;
  /** Who sent it: the `from` of its first transfer to the vault. */
  from: Address;
  blockNumber: bigint;
}

const unavailable = (message: string) => new AppError('UPSTREAM_UNAVAILABLE', message);

/**
 * Verifies a transaction through an EVM JSON-RPC node: mined and successful, carrying at least one
 * ERC-20 Transfer of the configured token to the vault, and buried under enough blocks. Answers
 * what it paid; refuses (BAD_USER_INPUT) a transaction that does not pay the vault, so nothing is
 * recorded and a transaction that only lacks confirmations can be sent again later.
 */
export async function verifyDeposit(check: DepositCheck, hash: Hash): Promise<VerifiedDeposit> {
  const { createPublicClient, decodeEventLog, http, isAddressEqual, TransactionReceiptNotFoundError } =
    viem();
  // No retries or caching: the caller is waiting, and a block number must be fresh.
  const client = createPublicClient({
    transport: http(check.rpcUrl, { retryCount: 0, timeout: check.timeoutMs ?? 10_000 }),
    cacheTime: 0,
  });
  let receipt;
  let head: bigint;
  try {
    [receipt, head] = await Promise.all([
      client.getTransactionReceipt({ hash }),
      client.getBlockNumber({ cacheTime: 0 }),
    ]);
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError)
      throw badInput('transaction not found or not mined yet; send it again once it is mined', {
        field: 'txHash',
      });
    throw unavailable('the EVM node did not answer; try again later');
  }
  if (receipt.status !== 'success') throw badInput('the transaction failed on chain', { field: 'txHash' });

  let amount = 0n;
  let from: Address | undefined;
  for (const log of receipt.logs) {
    if (!isAddressEqual(log.address, check.token)) continue;
    let event;
    try {
      event = decodeEventLog({ abi: [transferEvent()], data: log.data, topics: log.topics });
    } catch {
      continue; // another event of the token contract (Approval, …)
    }
    if (!isAddressEqual(event.args.to, check.vault)) continue;
    amount += event.args.value;
    from ??= event.args.from;
  }
  if (!from || amount === 0n)
    throw badInput('the transaction sends no USDC to the credit vault', { field: 'txHash' });

  const confirmations = head - receipt.blockNumber + 1n;
  if (confirmations < BigInt(check.confirmations))
    throw badInput(
      `the transaction has ${confirmations < 0n ? 0n : confirmations} of ${check.confirmations} confirmations; ` +
        'send it again once it has them all',
      { field: 'txHash', confirmations: Number(confirmations), required: check.confirmations },
    );
  return { amount, from, blockNumber: receipt.blockNumber };
}
