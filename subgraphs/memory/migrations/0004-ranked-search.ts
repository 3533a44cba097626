import { Migration } from '@mikro-orm/migrations';

/**
 * Search that ranks every match honestly in bounded time.
 *
 * - `rank_key`: log2(0.5 + importance) + created_at in half-lives of 180 days. Ordering by it is
 *   ordering by (0.5 + importance) * 2^(-age / 180 days) at any moment, so the weight of an entry
 *   is an index order (`memory_entry_rank_idx`) rather than a figure to compute for every match.
 *   The function is immutable because an epoch does not depend on the time zone.
 * - `memory_word`: each owner's vocabulary (the lexemes of their entries), kept by statement
 *   triggers, with a trigram index: a misspelt query word is replaced by the owner's words that
 *   look like it, and the search stays full text. Words are only added (a word whose entries are
 *   all deleted merely finds nothing); only words new to the owner take a row lock.
 */
export class MemoryRankedSearch extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function "memory"."rank_key"("importance" double precision, "created_at" timestamptz)
        returns double precision language sql immutable parallel safe
        as $$ select ln(0.5 + "importance") / ln(2) + extract(epoch from "created_at")::double precision / 15552000 $$;
      alter table "memory"."memory_entry"
        add column "rank_key" double precision generated always as ("memory"."rank_key"("importance", "created_at")) stored;
      create index "memory_entry_rank_idx" on "memory"."memory_entry" ("owner_id", "rank_key" desc, "id" desc);
      drop index "memory"."memory_entry_trgm_idx";

      create table "memory"."memory_word" (
        "owner_id" text not null,
        "word" text not null,
        primary key ("owner_id", "word"));
      create index "memory_word_trgm_idx" on "memory"."memory_word" using gin ("owner_id", "word" gin_trgm_ops);
      create function "memory"."remember_words"() returns trigger language plpgsql as $$
        begin
          insert into "memory"."memory_word" ("owner_id", "word")
          select distinct n."owner_id", w.word
          from "changed" n, unnest(tsvector_to_array(n."search_vector")) w(word)
          where not exists (select 1 from "memory"."memory_word" k where k."owner_id" = n."owner_id" and k."word" = w.word)
          order by 1, 2
          on conflict do nothing;
          return null;
        end $$;
      create trigger "memory_entry_words_inserted" after insert on "memory"."memory_entry"
        referencing new table as "changed" for each statement execute function "memory"."remember_words"();
      create trigger "memory_entry_words_updated" after update on "memory"."memory_entry"
        referencing new table as "changed" for each statement execute function "memory"."remember_words"();
      insert into "memory"."memory_word" ("owner_id", "word")
        select distinct "owner_id", unnest(tsvector_to_array("search_vector")) from "memory"."memory_entry";`);
  }
}
