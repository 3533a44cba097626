import { Migration } from '@mikro-orm/migrations';

/**
 * Memory that agents can search: who wrote an entry and for which session, its metadata, recall
 * bookkeeping, and the text search the database keeps itself. The tsvector is a generated column
 * (content weighted A, category B); the GIN indexes lead with the owner (btree_gin), so a search
 * reads one account's postings only, however many entries other accounts hold. pg_trgm answers
 * typos and short queries by word similarity.
 */
export class MemorySearch extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create extension if not exists pg_trgm;
      create extension if not exists btree_gin;
      alter table "memory"."memory_entry"
        alter column "agent_id" drop not null,
        add column "session_id" text,
        add column "metadata" jsonb not null default '{}' check (jsonb_typeof("metadata") = 'object'),
        add column "source" text not null default 'api',
        add column "idempotency_key" text,
        add column "last_recalled_at" timestamptz,
        add column "recall_count" integer not null default 0,
        add column "search_vector" tsvector generated always as (
          setweight(to_tsvector('english', "content"), 'A') ||
          setweight(to_tsvector('english', "category"), 'B')) stored;
      drop index "memory"."memory_entry_agent_id_idx";
      create index "memory_entry_agent_idx" on "memory"."memory_entry" ("owner_id", "agent_id", "id");
      create index "memory_entry_search_idx" on "memory"."memory_entry" using gin ("owner_id", "search_vector");
      create index "memory_entry_trgm_idx" on "memory"."memory_entry" using gin ("owner_id", "content" gin_trgm_ops);
      create index "memory_entry_tier_idx" on "memory"."memory_entry" ("owner_id", "tier", "category", "id");
      create index "memory_entry_session_idx" on "memory"."memory_entry" ("owner_id", "session_id", "tier", "id")
        where "session_id" is not null;
      create index "memory_entry_metadata_idx" on "memory"."memory_entry" using gin ("metadata" jsonb_path_ops);
      create unique index "memory_entry_idempotency_idx" on "memory"."memory_entry" ("owner_id", "idempotency_key")
        where "idempotency_key" is not null;`);
  }
}
