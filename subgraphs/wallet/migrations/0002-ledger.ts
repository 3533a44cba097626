import { Migration } from '@mikro-orm/migrations';

/**
 * The double-entry ledger (TigerBeetle's model): assets with their decimals, accounts holding
 * posted and pending debit and credit totals, immutable transfers keyed by the client's id, the
 * open holds (pending transfers not yet posted, voided or expired), and two entries per transfer.
 *
 * `apply_transfers` applies a batch of transfers in one statement: it locks what the batch touches
 * in one fixed order, checks every limit under those locks and answers one outcome per transfer.
 * One statement per batch keeps a hot account's lock held for as short a time as PostgreSQL allows.
 */
export class WalletLedger extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$ begin
        if exists (select 1 from "wallet"."ledger_account" where "balance_minor" <> 0) then
          raise exception 'ledger_account holds balances written outside the ledger; record them as grants first';
        end if;
      end $$;

      create table "wallet"."asset" (
        "code" text primary key check ("code" ~ '^[A-Z0-9]{2,12}$'),
        "decimals" smallint not null check ("decimals" between 0 and 18),
        "created_at" timestamptz not null default now()
      );
      insert into "wallet"."asset" ("code", "decimals") values ('USD', 6), ('USDC', 6), ('SOL', 9);
      -- Accounts opened under other codes keep them, in cents as the REST dialects showed them.
      insert into "wallet"."asset" ("code", "decimals")
        select distinct "asset", 2 from "wallet"."ledger_account" on conflict do nothing;

      alter table "wallet"."ledger_account"
        drop column "balance_minor",
        add column "kind" text not null default 'USER' check ("kind" in ('USER', 'SYSTEM')),
        -- 1: debits must not exceed credits (users); 2: credits must not exceed debits.
        add column "flags" integer not null default 1 check ("flags" between 0 and 3),
        add column "debits_posted" bigint not null default 0 check ("debits_posted" >= 0),
        add column "credits_posted" bigint not null default 0 check ("credits_posted" >= 0),
        add column "debits_pending" bigint not null default 0 check ("debits_pending" >= 0),
        add column "credits_pending" bigint not null default 0 check ("credits_pending" >= 0),
        add constraint "ledger_account_asset_fk" foreign key ("asset") references "wallet"."asset" ("code"),
        add constraint "ledger_account_debits_within_credits"
          check ("flags" & 1 = 0 or "debits_posted" + "debits_pending" <= "credits_posted"),
        add constraint "ledger_account_credits_within_debits"
          check ("flags" & 2 = 0 or "credits_posted" + "credits_pending" <= "debits_posted");

      -- System accounts (owner "system:<ROLE>") may go negative; more are opened on first use.
      insert into "wallet"."ledger_account" ("id", "owner_id", "asset", "kind", "flags")
        select 'lac_00000000' || substr(md5(random()::text || a."code" || r."role"), 1, 18),
               'system:' || r."role", a."code", 'SYSTEM', 0
        from "wallet"."asset" a
        cross join (values ('DEPOSITS_CLEARING'), ('PAYOUTS_CLEARING'), ('PLATFORM_REVENUE'), ('FEES'), ('ESCROW'))
          as r ("role");

      create table "wallet"."transfer" (
        "id" text primary key check ("id" ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
        "kind" text not null check ("kind" in ('SINGLE', 'PENDING', 'POST', 'VOID', 'EXPIRE')),
        "debit_account_id" text not null references "wallet"."ledger_account" ("id"),
        "credit_account_id" text not null references "wallet"."ledger_account" ("id"),
        "debit_owner_id" text not null,
        "credit_owner_id" text not null,
        "asset" text not null references "wallet"."asset" ("code"),
        -- Posted for SINGLE and POST, held for PENDING, released for VOID and EXPIRE.
        "amount" bigint not null check ("amount" >= 0),
        "pending_id" text null references "wallet"."transfer" ("id"),
        "timeout_seconds" integer null,
        "timeout_at" timestamptz null,
        "memo" text null,
        "created_at" timestamptz not null default now(),
        check ("debit_account_id" <> "credit_account_id"),
        check (("pending_id" is null) = ("kind" in ('SINGLE', 'PENDING')))
      );
      -- A pending transfer is posted, voided or expired at most once, whatever the code above says.
      create unique index "transfer_resolves_pending_once" on "wallet"."transfer" ("pending_id")
        where "pending_id" is not null;

      -- Pending transfers still open: resolving one deletes its row, exactly once.
      create table "wallet"."pending_hold" (
        "transfer_id" text primary key references "wallet"."transfer" ("id"),
        "timeout_at" timestamptz null
      );
      create index "pending_hold_timeout_idx" on "wallet"."pending_hold" ("timeout_at")
        where "timeout_at" is not null;

      -- Entry ids count up, zero-padded: an account's entries sort in the order they were applied.
      create sequence "wallet"."ledger_entry_seq";
      create table "wallet"."ledger_entry" (
        "id" text primary key default 'len_' || lpad(nextval('"wallet"."ledger_entry_seq"')::text, 26, '0'),
        "transfer_id" text not null references "wallet"."transfer" ("id"),
        "account_id" text not null references "wallet"."ledger_account" ("id"),
        "owner_id" text not null,
        "asset" text not null,
        "kind" text not null,
        "side" text not null check ("side" in ('DEBIT', 'CREDIT')),
        -- Changes to credits - debits, posted and pending: a transfer's two entries sum to zero.
        "posted_delta" bigint not null,
        "pending_delta" bigint not null,
        "posted_after" bigint not null,
        "available_after" bigint not null,
        "created_at" timestamptz not null default now(),
        unique ("transfer_id", "side")
      );
      create index "ledger_entry_owner_idx" on "wallet"."ledger_entry" ("owner_id", "id");
      create index "ledger_entry_account_idx" on "wallet"."ledger_entry" ("account_id", "id");

      -- JSON with every bigint as text, so no amount passes through a float on its way out.
      create function "wallet"."transfer_json"(t "wallet"."transfer") returns jsonb
      language sql immutable as $$
        select jsonb_build_object(
          'id', t."id", 'kind', t."kind", 'asset', t."asset", 'amount', t."amount"::text,
          'debitAccountId', t."debit_account_id", 'creditAccountId', t."credit_account_id",
          'debitOwnerId', t."debit_owner_id", 'creditOwnerId', t."credit_owner_id",
          'pendingId', t."pending_id", 'timeoutSeconds', t."timeout_seconds",
          'timeoutAt', t."timeout_at", 'memo', t."memo", 'createdAt', t."created_at")
      $$;

      -- Whether a stored transfer is what a request under the same id asks for.
      create function "wallet"."same_transfer"(t "wallet"."transfer", item jsonb) returns boolean
      language sql stable as $$
        select t."kind" = item->>'kind'
          and t."memo" is not distinct from item->>'memo'
          and case when t."kind" in ('SINGLE', 'PENDING') then
                t."debit_account_id" = item->>'debit'
                and t."credit_account_id" = item->>'credit'
                and t."amount" = (item->>'amount')::bigint
                and t."timeout_seconds" is not distinct from (item->>'timeout_seconds')::integer
              else
                t."pending_id" = item->>'pending_id'
                and t."amount" = coalesce((item->>'amount')::bigint,
                  (select p."amount" from "wallet"."transfer" p where p."id" = t."pending_id"))
              end
      $$;

      create function "wallet"."apply_transfers"(batch jsonb)
      returns table ("position" integer, "outcome" text, "transfer_row" jsonb, "entry_rows" jsonb)
      language plpgsql as $$
      declare
        item jsonb;
        t "wallet"."transfer";
        pending "wallet"."transfer";
        hold "wallet"."pending_hold";
        d "wallet"."ledger_account";
        c "wallet"."ledger_account";
        amt bigint;
        to_post bigint;    -- added to posted debits and credits
        to_hold bigint;    -- added to pending debits and credits
        to_release bigint; -- taken off pending debits and credits
      begin
        -- Lock everything the batch may change in one fixed order, open holds then accounts, each
        -- by id, so concurrent batches never wait on each other in a cycle.
        perform 1 from "wallet"."pending_hold" h
          where h."transfer_id" in (select b.value->>'pending_id' from jsonb_array_elements(batch) b)
          order by h."transfer_id" for update;
        perform 1 from "wallet"."ledger_account" a
          where a."id" in (
            select b.value->>'debit' from jsonb_array_elements(batch) b
            union select b.value->>'credit' from jsonb_array_elements(batch) b
            union select unnest(array[p."debit_account_id", p."credit_account_id"])
              from "wallet"."transfer" p
              where p."id" in (select b.value->>'pending_id' from jsonb_array_elements(batch) b))
          order by a."id" for update;

        for i in 0 .. jsonb_array_length(batch) - 1 loop
          item := batch->i;
          "position" := i;
          "outcome" := null;
          "transfer_row" := null;
          "entry_rows" := null;

          -- A replay answers the first result; the same id with other content is a conflict.
          select * into t from "wallet"."transfer" x where x."id" = item->>'id';
          if found then
            "outcome" := case when "wallet"."same_transfer"(t, item) then 'exists' else 'conflict' end;
            "transfer_row" := "wallet"."transfer_json"(t);
            return next;
            continue;
          end if;

          if item->>'kind' in ('SINGLE', 'PENDING') then
            amt := (item->>'amount')::bigint;
            select * into d from "wallet"."ledger_account" a where a."id" = item->>'debit';
            select * into c from "wallet"."ledger_account" a where a."id" = item->>'credit';
            "outcome" := case
              when d."id" is null or c."id" is null then 'account_not_found'
              when d."asset" <> c."asset" then 'asset_mismatch'
              when d."id" = c."id" then 'same_account'
              when d."flags" & 1 <> 0 and d."debits_posted" + d."debits_pending" + amt > d."credits_posted"
                then 'exceeds_credits'
              when c."flags" & 2 <> 0 and c."credits_posted" + c."credits_pending" + amt > c."debits_posted"
                then 'exceeds_debits'
            end;
            if "outcome" is not null then return next; continue; end if;
            to_post := case when item->>'kind' = 'SINGLE' then amt else 0 end;
            to_hold := amt - to_post;
            to_release := 0;
            insert into "wallet"."transfer" ("id", "kind", "debit_account_id", "credit_account_id",
                "debit_owner_id", "credit_owner_id", "asset", "amount", "timeout_seconds", "timeout_at", "memo")
              values (item->>'id', item->>'kind', d."id", c."id", d."owner_id", c."owner_id", d."asset", amt,
                (item->>'timeout_seconds')::integer,
                now() + make_interval(secs => (item->>'timeout_seconds')::integer), item->>'memo')
              on conflict ("id") do nothing
              returning * into t;
          else
            -- POST, VOID or EXPIRE of a pending transfer, which must still be open.
            select * into pending from "wallet"."transfer" p
              where p."id" = item->>'pending_id' and p."kind" = 'PENDING';
            if not found then "outcome" := 'pending_not_found'; return next; continue; end if;
            select * into hold from "wallet"."pending_hold" h where h."transfer_id" = pending."id";
            if not found then
              "outcome" := 'pending_resolved';
              select "wallet"."transfer_json"(r) into "transfer_row"
                from "wallet"."transfer" r where r."pending_id" = pending."id";
              return next;
              continue;
            end if;
            amt := case when item->>'kind' = 'POST'
              then coalesce((item->>'amount')::bigint, pending."amount") else pending."amount" end;
            "outcome" := case
              when item->>'kind' = 'POST' and hold."timeout_at" <= now() then 'pending_expired'
              when item->>'kind' = 'EXPIRE' and (hold."timeout_at" is null or hold."timeout_at" > now())
                then 'pending_not_expired'
              when amt > pending."amount" then 'exceeds_pending_amount'
            end;
            if "outcome" is not null then return next; continue; end if;
            to_post := case when item->>'kind' = 'POST' then amt else 0 end;
            to_hold := 0;
            to_release := pending."amount";
            insert into "wallet"."transfer" ("id", "kind", "debit_account_id", "credit_account_id",
                "debit_owner_id", "credit_owner_id", "asset", "amount", "pending_id", "memo")
              values (item->>'id', item->>'kind', pending."debit_account_id", pending."credit_account_id",
                pending."debit_owner_id", pending."credit_owner_id", pending."asset", amt, pending."id",
                item->>'memo')
              on conflict ("id") do nothing
              returning * into t;
          end if;

          if t."id" is null then
            -- Another batch stored this id meanwhile: answer as a replay would.
            select * into t from "wallet"."transfer" x where x."id" = item->>'id';
            "outcome" := case when "wallet"."same_transfer"(t, item) then 'exists' else 'conflict' end;
            "transfer_row" := "wallet"."transfer_json"(t);
            return next;
            continue;
          end if;
          if t."kind" = 'PENDING' then
            insert into "wallet"."pending_hold" ("transfer_id", "timeout_at") values (t."id", t."timeout_at");
          elsif t."pending_id" is not null then
            delete from "wallet"."pending_hold" h where h."transfer_id" = t."pending_id";
          end if;

          update "wallet"."ledger_account" a
            set "debits_posted" = a."debits_posted" + to_post,
                "debits_pending" = a."debits_pending" + to_hold - to_release
            where a."id" = t."debit_account_id"
            returning * into d;
          update "wallet"."ledger_account" a
            set "credits_posted" = a."credits_posted" + to_post,
                "credits_pending" = a."credits_pending" + to_hold - to_release
            where a."id" = t."credit_account_id"
            returning * into c;
          with written as (
            insert into "wallet"."ledger_entry" ("transfer_id", "account_id", "owner_id", "asset", "kind",
                "side", "posted_delta", "pending_delta", "posted_after", "available_after")
              values
                (t."id", d."id", d."owner_id", t."asset", t."kind", 'DEBIT',
                  -to_post, to_release - to_hold, d."credits_posted" - d."debits_posted",
                  d."credits_posted" - d."debits_posted" - d."debits_pending"),
                (t."id", c."id", c."owner_id", t."asset", t."kind", 'CREDIT',
                  to_post, to_hold - to_release, c."credits_posted" - c."debits_posted",
                  c."credits_posted" - c."debits_posted" - c."debits_pending")
              returning *
          )
          select jsonb_agg(jsonb_build_object(
              'id', w."id", 'transferId', w."transfer_id", 'accountId', w."account_id",
              'ownerId', w."owner_id", 'asset', w."asset", 'kind', w."kind", 'side', w."side",
              'postedDelta', w."posted_delta"::text, 'pendingDelta', w."pending_delta"::text,
              'postedAfter', w."posted_after"::text, 'availableAfter', w."available_after"::text,
              'createdAt', w."created_at"))
            into "entry_rows" from written w;
          "outcome" := 'created';
          "transfer_row" := "wallet"."transfer_json"(t);
          return next;
        end loop;
      end $$;`);
  }
}
