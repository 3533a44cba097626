/**
 * 000/001's escrow routes: funds locked for a task reward from the caller's balance, released to
 * the recipient (an account id) or refunded. Rows of the hermes dialect: errors `{detail}`, 409 when
 * not locked, 410 once expired, 403 for a gaze-gated release, 402 when the balance is short.
 */
import {
  EscrowByIdDocument,
  EscrowListDocument,
  EscrowLockDocument,
  EscrowRefundDocument,
  EscrowReleaseDocument,
  type EscrowFieldsFragment,
} from '../generated/graphql';
import { RestError } from '../errors';
import {
  decimalAmount,
  decimalsOf,
  derived,
  fromBody,
  fromPath,
  fromQuery,
  integer,
  lower,
  minorToNumber,
  oneOf,
  required,
} from '../mapping';
import { InputError, route } from '../types';

const STATUSES = { locked: 'LOCKED', released: 'RELEASED', refunded: 'REFUNDED', expired: 'EXPIRED' };

/** The token names the asset (USD credits by default); the amount is read in that token's decimals. */
const tokenOf = (body: Record<string, unknown>) =>
  typeof body.token === 'string' ? body.token.toUpperCase() : 'USD';

const amountInToken = derived(({ body }) => {
  try {
    return decimalAmount(decimalsOf(tokenOf(body))).convert(body.amount);
  } catch (error) {
    if (error instanceof InputError) throw new RestError('BAD_USER_INPUT', `amount ${error.message}`);
    throw error;
  }
}, 'amount');

export const escrow = (e: EscrowFieldsFragment) => ({
  escrow_id: e.id,
  task_id: e.taskId,
  amount: minorToNumber(e.amountMinor, e.decimals),
  amount_minor: e.amountMinor,
  token: e.asset,
  payer: e.payerId,
  recipient: e.recipientId,
  status: lower(e.status),
  gaze_required: e.gazeRequired,
  ttl_seconds: e.ttlSeconds,
  hold_id: e.holdId,
  created_at: e.createdAt,
  expires_at: e.expiresAt,
  settled_at: e.settledAt,
});

export const escrowRoutes = [
  route({
    method: 'POST',
    path: '/api/wallet/escrow',
    summary: 'Lock funds for a task reward (402 when your balance is short)',
    operation: EscrowLockDocument,
    variables: {
      'input.taskId': required(fromBody('task_id', undefined, 'a task of yours')),
      'input.amountMinor': amountInToken,
      'input.asset': derived(({ body }) => tokenOf(body), 'token'),
      'input.recipientId': required(fromBody('recipient', undefined, 'the account id paid on release')),
      'input.gazeRequired': fromBody('gaze_required'),
      'input.ttlSeconds': fromBody(
        'ttl_seconds',
        integer(60, 604800),
        'seconds until it expires, default 86400',
      ),
    },
    shape: ({ lockEscrow }) => escrow(lockEscrow),
  }),
  route({
    method: 'GET',
    path: '/api/wallet/escrow',
    summary: 'List escrows you pay or are paid by (filter by status and task)',
    operation: EscrowListDocument,
    paged: { connection: (d) => d.escrows },
    variables: {
      status: fromQuery('status', oneOf(STATUSES)),
      taskId: fromQuery('task_id', undefined, "only this task's escrows"),
    },
    shape: ({ escrows }, { page }) => ({
      escrows: escrows.nodes.map(escrow),
      total: escrows.totalCount,
      ...page,
    }),
  }),
  // Literal, so it outranks `/api/wallet/escrow/:id` as a path of its own.
  route({
    method: 'POST',
    path: '/api/wallet/escrow/release',
    summary: 'Release a locked escrow to its recipient (409 unless locked, 410 expired, 403 gaze-gated)',
    operation: EscrowReleaseDocument,
    variables: {
      id: required(fromBody('escrow_id')),
      attestationId: fromBody('attestation_id', undefined, 'a verified gaze attestation'),
    },
    shape: ({ releaseEscrow }) => escrow(releaseEscrow),
  }),
  route({
    method: 'GET',
    path: '/api/wallet/escrow/:id',
    summary: 'Get an escrow',
    operation: EscrowByIdDocument,
    variables: { id: fromPath('id') },
    shape: (d) => escrow(d.escrow),
  }),
  route({
    method: 'POST',
    path: '/api/wallet/escrow/:id/refund',
    summary: 'Refund a locked or expired escrow to the payer (409 once released or refunded)',
    operation: EscrowRefundDocument,
    variables: { id: fromPath('id') },
    shape: ({ refundEscrow }) => escrow(refundEscrow),
  }),
];
