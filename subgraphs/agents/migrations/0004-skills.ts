import { Migration } from '@mikro-orm/migrations';

/**
 * The skills index: one row per skill folder found in SKILLS_DIR, with its SKILL.md metadata and
 * each file's SHA-256 as last loaded (the audit compares the folder against `files`).
 */
export class AgentsSkills extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "agents"."skill" (
        "id" text primary key,
        "slug" text not null,
        "agent_id" text,
        "name" text not null,
        "description" text not null,
        "category" text not null,
        "version" text not null,
        "content" text not null,
        "files" jsonb not null,
        "origin" text not null check ("origin" in ('local', 'catalog')),
        "enabled" boolean not null default true,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now()
      );
      create index "skill_category_idx" on "agents"."skill" (lower("category"));
    `);
  }
}
