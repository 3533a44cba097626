import { Migration } from '@mikro-orm/migrations';

/**
 * A GIN index whose keys are the owner and a word together (`acc_… kubernet`): finding an
 * owner's entries holding all of a query's words then reads that owner's postings only. The
 * two-column (owner_id, search_vector) index intersects the owner's postings with each word's
 * postings over every owner, which costs as much as the word is common in the whole table.
 */
export class MemoryOwnerWords extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function "memory"."owner_words"("owner_id" text, "search_vector" tsvector)
        returns text[] language sql immutable parallel safe
        as $$ select array(select "owner_id" || ' ' || w from unnest(tsvector_to_array("search_vector")) w) $$;
      create index "memory_entry_owner_words_idx" on "memory"."memory_entry"
        using gin ("memory"."owner_words"("owner_id", "search_vector"));`);
  }
}
