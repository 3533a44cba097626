import { registerEnumType } from 'type-graphql';
import { badInput, newId, type EntityManager } from '../../../lib';
import { DEBITS_MUST_NOT_EXCEED_CREDITS, LedgerAccountKind } from './ledger-account.entity';

/**
 * The platform's own accounts, one of each per asset. The clearing accounts stand for money outside
 * the ledger (on its way in or out) and may go negative; the others only pay out what they hold.
 */
export enum SystemAccountRole {
  DEPOSITS_CLEARING = 'DEPOSITS_CLEARING',
  PAYOUTS_CLEARING = 'PAYOUTS_CLEARING',
  PLATFORM_REVENUE = 'PLATFORM_REVENUE',
  FEES = 'FEES',
  ESCROW = 'ESCROW',
}
registerEnumType(SystemAccountRole, {
  name: 'SystemAccountRole',
  description:
    "The platform's own ledger accounts (one per asset). DEPOSITS_CLEARING and PAYOUTS_CLEARING may go " +
    'negative (they mirror money outside the ledger); ESCROW, PLATFORM_REVENUE and FEES never spend more ' +
    'than they hold.',
});

/** System roles whose balance mirrors money outside the ledger, so it may go below zero. */
const MAY_GO_NEGATIVE: ReadonlySet<string> = new Set([
  SystemAccountRole.DEPOSITS_CLEARING,
  SystemAccountRole.PAYOUTS_CLEARING,
]);

const SYSTEM_PREFIX = 'system:';
export const systemOwnerId = (role: SystemAccountRole) => SYSTEM_PREFIX + role;
export const isSystemOwner = (ownerId: string) => ownerId.startsWith(SYSTEM_PREFIX);

/** The limit flags an owner's account opens with: only the clearing accounts may go negative. */
export const accountFlagsOf = (ownerId: string) =>
  isSystemOwner(ownerId) && MAY_GO_NEGATIVE.has(ownerId.slice(SYSTEM_PREFIX.length))
    ? 0
    : DEBITS_MUST_NOT_EXCEED_CREDITS;

/** Who pays or is paid: an account (by its id) or one of the platform's system accounts. */
export interface Party {
  accountId?: string | null;
  system?: SystemAccountRole | null;
}

/** The shape of every id newId makes (`acc_…`); anything else cannot name an account. */
const ACCOUNT_ID = /^[a-z]+_[0-9a-z]{26}$/;

export function ownerOfParty(party: Party, field: string): string {
  if (!party.accountId === !party.system)
    throw badInput(`${field} names either accountId or system`, { field });
  if (party.system) return systemOwnerId(party.system);
  if (!ACCOUNT_ID.test(party.accountId!))
    throw badInput(`${field}.accountId is not an account id`, { field });
  return party.accountId!;
}

/** What never changes once read, per database: asset decimals and (owner, asset) → account id. */
interface Known {
  assets?: Promise<Map<string, number>>;
  accounts: Map<string, string>;
}
const known = new WeakMap<object, Known>();

function knownIn(em: EntityManager): Known {
  const connection = em.getConnection();
  let entry = known.get(connection);
  if (!entry) known.set(connection, (entry = { accounts: new Map() }));
  return entry;
}

async function loadAssets(em: EntityManager): Promise<Map<string, number>> {
  const rows = await em.execute<{ code: string; decimals: number }[]>(
    'select "code", "decimals" from "wallet"."asset"',
  );
  return new Map(rows.map((row) => [row.code, Number(row.decimals)]));
}

/** The decimals of an asset; an asset the wallet does not keep is bad input. */
export async function assetDecimals(em: EntityManager, asset: string, field = 'asset'): Promise<number> {
  const cache = knownIn(em);
  cache.assets ??= loadAssets(em).catch((error: unknown) => {
    cache.assets = undefined;
    throw error;
  });
  let decimals = (await cache.assets).get(asset);
  if (decimals === undefined) {
    // Assets are added by migration; another replica may have applied one since we read them.
    cache.assets = loadAssets(em);
    decimals = (await cache.assets).get(asset);
  }
  if (decimals === undefined)
    throw badInput(`${field} must be an asset the wallet keeps`, { field, asset: asset.slice(0, 16) });
  return decimals;
}

/**
 * The ledger account of an owner in an asset, opened on first use with the limit of its role
 * (accountFlagsOf): only the clearing accounts may go negative.
 */
export async function ledgerAccountId(em: EntityManager, ownerId: string, asset: string): Promise<string> {
  const cache = knownIn(em).accounts;
  const key = `${ownerId} ${asset}`;
  const cached = cache.get(key);
  if (cached) return cached;
  await assetDecimals(em, asset);
  const system = isSystemOwner(ownerId);
  const [opened] = await em.execute<{ id: string }[]>(
    `insert into "wallet"."ledger_account" ("id", "owner_id", "asset", "kind", "flags", "created_at")
     values (?, ?, ?, ?, ?, now()) on conflict ("owner_id", "asset") do nothing returning "id"`,
    [
      newId('lac'),
      ownerId,
      asset,
      system ? LedgerAccountKind.SYSTEM : LedgerAccountKind.USER,
      accountFlagsOf(ownerId),
    ],
  );
  const id =
    opened?.id ??
    (
      await em.execute<{ id: string }[]>(
        'select "id" from "wallet"."ledger_account" where "owner_id" = ? and "asset" = ?',
        [ownerId, asset],
      )
    )[0].id;
  cache.set(key, id);
  return id;
}
