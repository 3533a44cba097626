import { Migration } from '@mikro-orm/migrations';

/**
 * Messaging channels (README "Messaging channels"): each message a Telegram or WhatsApp webhook
 * delivered, once per the platform's own message id, and each answer sent back through the channel's
 * API; a failed one stays FAILED as a dead letter until it is replayed.
 */
export class SessionsChannels extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."channel_inbound" (
        "id" text primary key,
        "channel" text not null,
        "external_id" text not null,
        "chat_id" text not null,
        "owner_id" text not null,
        "session_id" text null,
        "turn_id" text null,
        "error" text null,
        "created_at" timestamptz not null,
        "updated_at" timestamptz not null,
        constraint "channel_inbound_external_uniq" unique ("channel", "external_id")
      );
      create table "sessions"."channel_outbound" (
        "id" text primary key,
        "channel" text not null,
        "owner_id" text not null,
        "recipient_id" text not null,
        "content" text not null,
        "inbound_id" text null,
        "state" text not null,
        "attempts" integer not null default 0,
        "last_status_code" integer null,
        "last_error" text null,
        "created_at" timestamptz not null,
        "updated_at" timestamptz not null
      );
      create index "channel_outbound_owner_state_idx" on "sessions"."channel_outbound" ("owner_id", "state", "id");
      create index "channel_outbound_channel_idx" on "sessions"."channel_outbound" ("channel", "state");
    `);
  }
}
