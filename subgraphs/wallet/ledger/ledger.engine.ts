import { AppError, conflict, metrics, notFound, type EntityManager } from '../../../lib';
import type { LedgerEntry } from './ledger-entry.entity';
import { fromWire } from './ledger.events';
import { Transfer, TransferKind } from './transfer.entity';

/**
 * The ledger's write path. Every transfer goes through `"wallet"."apply_transfers"` (see
 * migrations/0002-ledger.ts), which locks what it touches in id order, checks limits under the
 * locks and writes the transfer and its two entries. Requests arriving while earlier batches are
 * in flight wait and go together as one statement, so a hot account pays one lock and one commit
 * per batch rather than per transfer.
 */

/** A transfer to apply, already validated, with parties resolved to ledger account ids. */
export interface TransferRequest {
  id: string;
  kind: TransferKind;
  /** SINGLE and PENDING: the accounts debited and credited. */
  debitAccountId?: string;
  creditAccountId?: string;
  /** Minor units: required for SINGLE and PENDING; for POST, the part posted (default: all). */
  amount?: bigint;
  /** POST, VOID and EXPIRE: the pending transfer resolved. */
  pendingId?: string;
  /** PENDING: seconds until the sweeper expires it; none waits for ever. */
  timeoutSeconds?: number;
  memo?: string | null;
}

export interface TransferResult {
  transfer: Transfer;
  /** False when the id was already used for this same transfer: the first result, replayed. */
  created: boolean;
  /** The two balance changes, when created. */
  entries: LedgerEntry[];
}

/** What `apply_transfers` answers for one request. */
interface OutcomeRow {
  position: number;
  outcome: string;
  transfer_row: Record<string, string | number | null> | null;
  entry_rows: Record<string, string>[] | null;
}

const APPLY = 'select * from "wallet"."apply_transfers"(?::jsonb)';
/** Most transfers in one statement, and most statements in flight from one process. */
const MAX_BATCH = 256;
export const LEDGER_MAX_IN_FLIGHT = 4;
/** Deadlock and serialization failures are retried this often before the error is the caller's. */
const MAX_ATTEMPTS = 3;
const RETRYABLE = new Set(['40P01', '40001']);

const toItem = (request: TransferRequest) => ({
  id: request.id,
  kind: request.kind,
  debit: request.debitAccountId ?? null,
  credit: request.creditAccountId ?? null,
  amount: request.amount === undefined ? null : request.amount.toString(),
  pending_id: request.pendingId ?? null,
  timeout_seconds: request.timeoutSeconds ?? null,
  memo: request.memo ?? null,
});

function transferFrom(row: Record<string, string | number | null>): Transfer {
  const date = (value: unknown) => (value === null ? null : new Date(value as string));
  return Object.assign(new Transfer(), {
    id: row.id,
    kind: row.kind,
    asset: row.asset,
    amountMinor: BigInt(row.amount as string),
    debitAccountId: row.debitAccountId,
    creditAccountId: row.creditAccountId,
    debitOwnerId: row.debitOwnerId,
    creditOwnerId: row.creditOwnerId,
    pendingId: row.pendingId,
    timeoutSeconds: row.timeoutSeconds,
    timeoutAt: date(row.timeoutAt),
    memo: row.memo,
    createdAt: date(row.createdAt),
  });
}

/** One outcome as the caller's result, or the error the caller gets. */
function resultOf(request: TransferRequest, row: OutcomeRow): TransferResult | AppError {
  const stored = row.transfer_row && transferFrom(row.transfer_row);
  switch (row.outcome) {
    case 'created':
      return {
        transfer: stored!,
        created: true,
        entries: (row.entry_rows ?? []).map((entry) => fromWire(entry as never)),
      };
    case 'exists':
      return { transfer: stored!, created: false, entries: [] };
    case 'conflict':
      return conflict(`transfer ${request.id} already exists with other content`, { id: request.id });
    case 'exceeds_credits':
      return new AppError('PAYMENT_REQUIRED', 'insufficient funds', { id: request.id });
    case 'exceeds_debits':
      return conflict('the credited account may not receive more than it has paid out', { id: request.id });
    case 'account_not_found':
      return notFound('LedgerAccount', `${request.debitAccountId} or ${request.creditAccountId}`);
    case 'asset_mismatch':
      return new AppError('BAD_USER_INPUT', 'both accounts must hold the same asset', { id: request.id });
    case 'same_account':
      return new AppError('BAD_USER_INPUT', 'a transfer needs two different accounts', { id: request.id });
    case 'pending_not_found':
      return notFound('pending transfer', request.pendingId!);
    case 'pending_resolved':
      return conflict(
        `pending transfer ${request.pendingId} is already resolved` +
          (stored ? ` (${stored.kind} ${stored.id})` : ''),
        { pendingId: request.pendingId, resolvedBy: stored?.id, resolution: stored?.kind },
      );
    case 'pending_expired':
      return conflict(`pending transfer ${request.pendingId} has expired`, { pendingId: request.pendingId });
    case 'pending_not_expired':
      return conflict(`pending transfer ${request.pendingId} has not expired`, {
        pendingId: request.pendingId,
      });
    case 'exceeds_pending_amount':
      return new AppError('BAD_USER_INPUT', 'amount is more than the pending transfer holds', {
        field: 'amountMinor',
      });
    default:
      return new AppError('INTERNAL_SERVER_ERROR', `unknown ledger outcome ${row.outcome}`);
  }
}

/** A database error of one lone transfer, as the caller should see it. */
function errorOf(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === '22003') return conflict('the transfer would overflow a balance');
  return error;
}

type Execute = (sql: string, params: unknown[]) => Promise<OutcomeRow[]>;

/** Applies requests in one statement, retrying deadlocks; answers in request order. */
async function applyBatch(
  execute: Execute,
  requests: TransferRequest[],
): Promise<(TransferResult | AppError)[]> {
  const batch = JSON.stringify(requests.map(toItem));
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await execute(APPLY, [batch]);
      rows.sort((a, b) => a.position - b.position);
      const results = rows.map((row, index) => resultOf(requests[index], row));
      for (const result of results)
        if (!(result instanceof AppError) && result.created)
          metrics.ledgerTransfers.inc({ subgraph: 'wallet', kind: result.transfer.kind });
      return results;
    } catch (error) {
      if (!RETRYABLE.has((error as { code?: string }).code ?? '') || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * Applies requests within the caller's transaction (the sweeper holds its claimed holds while it
 * voids them). No batching with other callers; results in request order.
 */
export function applyTransfersIn(em: EntityManager, requests: TransferRequest[]) {
  return applyBatch((sql, params) => em.execute<OutcomeRow[]>(sql, params), requests);
}

interface Waiting {
  request: TransferRequest;
  resolve: (result: TransferResult) => void;
  reject: (error: unknown) => void;
}

/** Gathers the requests of one database while earlier batches run, and sends them together. */
class Batcher {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly execute: Execute) {}

  submit(request: TransferRequest): Promise<TransferResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= LEDGER_MAX_IN_FLIGHT || !this.queue.length) return;
    this.scheduled = true;
    // One turn of the event loop lets the requests of the same tick join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < LEDGER_MAX_IN_FLIGHT && this.queue.length) {
        // Shared among the free slots: one batch taking everything would leave the others idle and
        // move every client in lock step with that one statement.
        const size = Math.ceil(this.queue.length / (LEDGER_MAX_IN_FLIGHT - this.inFlight));
        this.inFlight++;
        void this.run(this.queue.splice(0, Math.min(MAX_BATCH, size))).finally(() => {
          this.inFlight--;
          this.schedule();
        });
      }
    });
  }

  private async run(batch: Waiting[]): Promise<void> {
    try {
      const results = await applyBatch(
        this.execute,
        batch.map((waiting) => waiting.request),
      );
      results.forEach((result, index) =>
        result instanceof AppError ? batch[index].reject(result) : batch[index].resolve(result),
      );
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(errorOf(error));
      // One bad transfer must not fail its neighbours: each is tried again alone.
      await Promise.all(batch.map((waiting) => this.run([waiting])));
    }
  }
}

/** One batcher per database (per MikroORM driver connection), made on first use. */
const batchers = new WeakMap<object, Batcher>();

/**
 * Applies one transfer, batched with whatever else this process is applying, and commits it.
 * Answers the stored transfer (also for a replay of the same id and content) or throws the
 * AppError its outcome means: PAYMENT_REQUIRED, CONFLICT, NOT_FOUND or BAD_USER_INPUT.
 */
export function applyTransfer(em: EntityManager, request: TransferRequest): Promise<TransferResult> {
  const connection = em.getConnection();
  let batcher = batchers.get(connection);
  if (!batcher) {
    batcher = new Batcher((sql, params) => connection.execute(sql, params) as Promise<OutcomeRow[]>);
    batchers.set(connection, batcher);
  }
  return batcher.submit(request);
}
