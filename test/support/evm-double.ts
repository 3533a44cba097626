import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** keccak256("Transfer(address,address,uint256)"): topic 0 of every ERC-20 transfer log. */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

const hex = (value: bigint | number) => `0x${BigInt(value).toString(16)}`;
const word = (address: string) => `0x${address.slice(2).toLowerCase().padStart(64, '0')}`;

export interface TokenTransfer {
  token: string;
  from: string;
  to: string;
  /** Token units (6 decimals for USDC). */
  value: bigint;
}

export interface MinedTransaction {
  hash: string;
  blockNumber: bigint;
  /** False: the transaction reverted (receipt status 0x0). */
  success?: boolean;
  transfers: TokenTransfer[];
}

/**
 * An Ethereum node as far as deposits need one: JSON-RPC 2.0 over HTTP answering
 * `eth_getTransactionReceipt` (null for an unknown hash, as a node does), `eth_blockNumber` and
 * `eth_chainId`, with receipts and logs in the node's wire format.
 */
export async function startEvmDouble() {
  const receipts = new Map<string, Record<string, unknown>>();
  let head = 1000n;
  const calls: string[] = [];

  function receiptOf(tx: MinedTransaction) {
    const blockHash = word(`0x${tx.blockNumber.toString(16)}`);
    return {
      transactionHash: tx.hash,
      transactionIndex: '0x0',
      blockHash,
      blockNumber: hex(tx.blockNumber),
      from: tx.transfers[0]?.from ?? '0x0000000000000000000000000000000000000001',
      to: tx.transfers[0]?.token ?? null,
      cumulativeGasUsed: '0x5208',
      gasUsed: '0x5208',
      effectiveGasPrice: '0x3b9aca00',
      contractAddress: null,
      logsBloom: `0x${'0'.repeat(512)}`,
      type: '0x2',
      status: tx.success === false ? '0x0' : '0x1',
      logs: tx.transfers.map((transfer, index) => ({
        address: transfer.token.toLowerCase(),
        topics: [TRANSFER_TOPIC, word(transfer.from), word(transfer.to)],
        data: `0x${transfer.value.toString(16).padStart(64, '0')}`,
        blockNumber: hex(tx.blockNumber),
        blockHash,
        transactionHash: tx.hash,
        transactionIndex: '0x0',
        logIndex: hex(index),
        removed: false,
      })),
    };
  }

  const answer = (method: string, params: unknown[]): unknown => {
    calls.push(method);
    switch (method) {
      case 'eth_blockNumber':
        return hex(head);
      case 'eth_chainId':
        return '0x2105'; // Base
      case 'eth_getTransactionReceipt':
        return receipts.get(String(params[0]).toLowerCase()) ?? null;
      default:
        throw Object.assign(new Error(`the method ${method} does not exist/is not available`), {
          code: -32601,
        });
    }
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const respond = (request: { id: unknown; method: string; params?: unknown[] }) => {
        try {
          return { jsonrpc: '2.0', id: request.id, result: answer(request.method, request.params ?? []) };
        } catch (error) {
          const { code, message } = error as { code: number; message: string };
          return { jsonrpc: '2.0', id: request.id, error: { code, message } };
        }
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }),
        );
      }
      const result = Array.isArray(parsed) ? parsed.map(respond) : respond(parsed as never);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** Mines a transaction into the double's chain. */
    mine(tx: MinedTransaction) {
      receipts.set(tx.hash.toLowerCase(), receiptOf(tx));
    },
    setHead(block: bigint) {
      head = block;
    },
    get head() {
      return head;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type EvmDouble = Awaited<ReturnType<typeof startEvmDouble>>;
