import { AppError, badInput } from '../../lib';

/** A Solana transaction signature: 64 bytes in base58, 86 to 88 characters (87–88 in practice). */
export const SOLANA_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/;

/** What a payment proof showed: how many lamports reached the address, and who paid them. */
export interface ProvenPayment {
  amountMinor: bigint;
  /** The fee payer (the first account key), as the client's paying wallet. */
  from: string | null;
  slot: bigint | null;
}

/**
 * One payment rail's proof check: given a proof (a transaction reference) and the address that
 * had to be paid, answers what the proof paid that address, or refuses it. The tasks' hire flow
 * depends on this interface only; the Solana JSON-RPC implementation is below.
 */
export interface PaymentProofVerifier {
  verify(proof: string, payTo: string): Promise<ProvenPayment>;
}

interface AccountKey {
  pubkey?: string;
}
interface RpcTransaction {
  slot?: number;
  meta?: { err?: unknown; preBalances?: number[]; postBalances?: number[] } | null;
  transaction?: { message?: { accountKeys?: (string | AccountKey)[] } };
}

const keyOf = (key: string | AccountKey) => (typeof key === 'string' ? key : key?.pubkey);
const unavailable = () =>
  new AppError('UPSTREAM_UNAVAILABLE', 'the Solana node did not answer; try again later');
const refused = (message: string) => badInput(message, { field: 'X-Payment-Proof' });

/**
 * Verifies through a Solana JSON-RPC node (`getTransaction`, json encoding, at the configured
 * commitment): the transaction exists at that commitment, did not fail, and the address's balance
 * rose; the rise (post minus pre balance of that account key) is what was paid.
 */
export function solanaVerifier(options: {
  rpcUrl: string;
  commitment: 'confirmed' | 'finalized';
  timeoutMs?: number;
}): PaymentProofVerifier {
  return {
    async verify(signature, payTo) {
      if (!SOLANA_SIGNATURE.test(signature))
        throw refused('X-Payment-Proof must be a Solana transaction signature (base58)');
      let body: { result?: RpcTransaction | null; error?: { message?: string } };
      try {
        const response = await fetch(options.rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'getTransaction',
            params: [
              signature,
              { encoding: 'json', commitment: options.commitment, maxSupportedTransactionVersion: 0 },
            ],
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        if (!response.ok) throw unavailable();
        body = (await response.json()) as typeof body;
      } catch {
        throw unavailable();
      }
      if (body.error) throw refused(`the Solana node refused the signature: ${String(body.error.message)}`);
      const tx = body.result;
      if (!tx) throw refused(`transaction not found at ${options.commitment} commitment; retry once it is`);
      if (tx.meta?.err) throw refused('the transaction failed on chain');
      const keys = (tx.transaction?.message?.accountKeys ?? []).map(keyOf);
      const index = keys.indexOf(payTo);
      const pre = tx.meta?.preBalances?.[index];
      const post = tx.meta?.postBalances?.[index];
      if (index < 0 || !Number.isSafeInteger(pre) || !Number.isSafeInteger(post))
        throw refused('the transaction does not pay the escrow address');
      const amountMinor = BigInt(post as number) - BigInt(pre as number);
      if (amountMinor <= 0n) throw refused('the transaction does not pay the escrow address');
      return {
        amountMinor,
        from: typeof keys[0] === 'string' ? keys[0] : null,
        slot: Number.isSafeInteger(tx.slot) ? BigInt(tx.slot as number) : null,
      };
    },
  };
}
