import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { AppError, badInput, conflict, newId, type EntityManager } from '../../../lib';
import { DepositAddressLink, type AddressChallenge } from './deposit-address.entity';
import { viem, type Address, type Hex } from './evm';

/**
 * Binding deposits to accounts: an account links an EVM address by signing a challenge with it, and
 * an on-chain deposit is credited only to the account that linked its sender. Whoever sees a vault
 * transfer's hash therefore cannot claim it.
 */

/** Long enough to open a wallet and sign; short enough that a leaked challenge is soon useless. */
const CHALLENGE_TTL_SECONDS = 600;
/** 65-byte signature (r, s, v) in hex; ERC-6492/1271 contract signatures are longer and not taken. */
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

function checkAddress(address: unknown): Address {
  if (typeof address !== 'string' || !viem().isAddress(address, { strict: false }))
    throw badInput('address must be an EVM address: 0x and 40 hex digits', { field: 'address' });
  return address.toLowerCase() as Address;
}

/** A fresh challenge for `address`, naming the account it links to and when it stops being valid. */
export async function createAddressChallenge(
  em: EntityManager,
  ownerId: string,
  address: unknown,
): Promise<AddressChallenge> {
  const checked = checkAddress(address);
  const id = newId('chl');
  const expiresAt = new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000);
  const message =
    `Agentry: link ${checked} to account ${ownerId} for deposits.\n` +
    `Challenge: ${id}\nExpires: ${expiresAt.toISOString()}`;
  await em.execute(
    `insert into "wallet"."address_challenge" ("id", "owner_id", "address", "message", "expires_at")
     values (?, ?, ?, ?, ?)`,
    [id, ownerId, checked, message, expiresAt],
  );
  return { id, address: checked, message, expiresAt };
}

/**
 * Links the challenge's address to the caller once the signature proves the address signed its
 * message. The challenge is consumed by one conditional UPDATE (used once, unexpired, the caller's);
 * an address another account linked is a CONFLICT; linking one's own again answers the link.
 */
export async function linkDepositAddress(
  em: EntityManager,
  ownerId: string,
  input: { challengeId: string; signature: string },
): Promise<DepositAddressLink> {
  if (!SIGNATURE.test(input.signature))
    throw badInput('signature must be a 65-byte hex signature (0x and 130 hex digits)', {
      field: 'signature',
    });
  const [challenge] = await em.execute<{ address: string; message: string }[]>(
    `select "address", "message" from "wallet"."address_challenge"
      where "id" = ? and "owner_id" = ? and "used_at" is null and "expires_at" > now()`,
    [input.challengeId, ownerId],
  );
  if (!challenge)
    throw badInput('the challenge is unknown, used or expired: ask depositAddressChallenge for a new one', {
      field: 'challengeId',
    });
  const signed = await viem()
    .verifyMessage({
      address: challenge.address as Address,
      message: challenge.message,
      signature: input.signature as Hex,
    })
    .catch(() => false);
  if (!signed)
    throw badInput(`the signature is not ${challenge.address}'s signature of the challenge message`, {
      field: 'signature',
    });
  return em.transactional(async (tx) => {
    const used = await tx.execute(
      `update "wallet"."address_challenge" set "used_at" = now()
        where "id" = ? and "used_at" is null and "expires_at" > now() returning "id"`,
      [input.challengeId],
    );
    if (!used.length) throw badInput('the challenge was used meanwhile', { field: 'challengeId' });
    const existing = await tx.findOne(DepositAddressLink, { address: challenge.address });
    if (existing) {
      if (existing.ownerId !== ownerId)
        throw conflict('this address is linked to another account', { field: 'address' });
      return existing;
    }
    try {
      const link = tx.create(DepositAddressLink, { address: challenge.address, ownerId });
      await tx.flush();
      return link;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException)
        throw conflict('this address is linked to another account', { field: 'address' });
      throw error;
    }
  });
}

/**
 * Refuses to credit an on-chain deposit to any account but the one that linked its sender:
 * FORBIDDEN when nobody linked it, CONFLICT when another account did.
 */
export async function requireLinkedSender(em: EntityManager, ownerId: string, from: string): Promise<void> {
  const sender = from.toLowerCase();
  const link = await em.findOne(DepositAddressLink, { address: sender });
  if (!link)
    throw new AppError(
      'FORBIDDEN',
      `the sender ${sender} is not linked to your account: link it (depositAddressChallenge, then ` +
        'linkDepositAddress with its signature) and claim the transaction again',
      { field: 'txHash', from: sender },
    );
  if (link.ownerId !== ownerId)
    throw conflict(
      `the sender ${sender} is linked to another account; only that account may claim its deposits`,
      {
        field: 'txHash',
      },
    );
}
