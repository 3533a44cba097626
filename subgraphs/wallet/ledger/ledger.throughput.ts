import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { EntityManager } from '../../../lib';

/** The window the rate is measured over, and the most entries read to measure it. */
const WINDOW_SECONDS = 10;
const MAX_ENTRIES_READ = 50_000;

@ObjectType({ description: 'How fast the ledger is moving money, platform-wide (admins).' })
export class LedgerThroughput {
  @Field(() => Float, { description: 'Transfers committed per second over the window.' })
  transfersPerSecond!: number;

  @Field(() => Int)
  windowSeconds!: number;

  @Field({ description: 'True when the window held more entries than are read: the rate is at least this.' })
  capped!: boolean;
}

/**
 * Reads the newest entries backwards along the primary key (entry ids count up), so the cost is
 * bounded by MAX_ENTRIES_READ however large the ledger; a transfer has two entries.
 */
export async function ledgerThroughput(em: EntityManager): Promise<LedgerThroughput> {
  const [row] = await em.execute<{ transfers: number; read: number; all_recent: boolean | null }[]>(
    `select count(distinct "transfer_id") filter (where "recent")::int as "transfers",
            count(*)::int as "read", bool_and("recent") as "all_recent"
     from (select "transfer_id", "created_at" > now() - make_interval(secs => ?) as "recent"
           from "wallet"."ledger_entry" order by "id" desc limit ?) as "newest"`,
    [WINDOW_SECONDS, MAX_ENTRIES_READ],
  );
  return {
    transfersPerSecond: row.transfers / WINDOW_SECONDS,
    windowSeconds: WINDOW_SECONDS,
    capped: row.read === MAX_ENTRIES_READ && row.all_recent === true,
  };
}
