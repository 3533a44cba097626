import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Base58 as Solana writes keys and signatures (leading zero bytes become '1'). */
export function base58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (value > 0n) {
    out = BASE58[Number(value % 58n)] + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** A fresh Solana address (32 bytes) or transaction signature (64 bytes). */
export const solanaAddress = () => base58(randomBytes(32));
export const solanaSignature = () => base58(randomBytes(64));

const SYSTEM_PROGRAM = '11111111111111111111111111111111';
const FEE = 5000;

interface Payment {
  from: string;
  to: string;
  lamports: bigint;
  /** The highest commitment it reached: a `finalized` query does not see a `confirmed` one. */
  commitment: 'confirmed' | 'finalized';
  failed: boolean;
  slot: number;
}

/**
 * A Solana JSON-RPC node over HTTP for one method, `getTransaction` (JSON-RPC 2.0, json encoding):
 * a known signature answers a system transfer with its account keys and pre/post balances as a
 * node does; an unknown one, or one below the commitment asked for, answers `result: null`.
 */
export async function startSolanaDouble() {
  const payments = new Map<string, Payment>();
  const calls: { method: string; params: unknown[] }[] = [];
  let slot = 250_000_000;

  const answer = (payment: Payment, signature: string) => {
    const payerBefore = 10_000_000_000;
    const toBefore = 1_000_000_000;
    const sent = payment.failed ? 0 : Number(payment.lamports);
    return {
      slot: payment.slot,
      blockTime: Math.floor(Date.now() / 1000),
      meta: {
        err: payment.failed ? { InstructionError: [0, 'Custom'] } : null,
        fee: FEE,
        preBalances: [payerBefore, toBefore, 1],
        postBalances: [payerBefore - sent - FEE, toBefore + sent, 1],
        innerInstructions: [],
        logMessages: [],
        status: payment.failed ? { Err: { InstructionError: [0, 'Custom'] } } : { Ok: null },
      },
      transaction: {
        signatures: [signature],
        message: {
          accountKeys: [payment.from, payment.to, SYSTEM_PROGRAM],
          header: { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 },
          instructions: [{ programIdIndex: 2, accounts: [0, 1], data: '3Bxs4NN8M2Yn4TLb' }],
          recentBlockhash: base58(randomBytes(32)),
        },
      },
      version: 'legacy',
    };
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const reply = (payload: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      let request: { jsonrpc?: string; id?: unknown; method?: string; params?: unknown[] };
      try {
        request = JSON.parse(body);
      } catch {
        return reply({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      const { id = null, method = '', params = [] } = request;
      calls.push({ method, params });
      if (method !== 'getTransaction')
        return reply({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
      const [signature, config] = params as [unknown, { commitment?: string } | undefined];
      if (typeof signature !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{64,88}$/.test(signature))
        return reply({ jsonrpc: '2.0', id, error: { code: -32602, message: 'Invalid param: Invalid' } });
      const payment = payments.get(signature);
      const wanted = config?.commitment ?? 'finalized';
      const visible = payment && !(wanted === 'finalized' && payment.commitment === 'confirmed');
      reply({ jsonrpc: '2.0', id, result: visible ? answer(payment, signature) : null });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** Records a transfer of `lamports` from `from` to `to` and answers its signature. */
    pay(
      from: string,
      to: string,
      lamports: bigint,
      options: { commitment?: 'confirmed' | 'finalized'; failed?: boolean } = {},
    ) {
      const signature = solanaSignature();
      payments.set(signature, {
        from,
        to,
        lamports,
        commitment: options.commitment ?? 'finalized',
        failed: options.failed ?? false,
        slot: ++slot,
      });
      return signature;
    },
    /** Lets a confirmed transaction reach finalized. */
    finalize(signature: string) {
      const payment = payments.get(signature);
      if (payment) payment.commitment = 'finalized';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type SolanaDouble = Awaited<ReturnType<typeof startSolanaDouble>>;
