import { Migration } from '@mikro-orm/migrations';

/**
 * 000's gaze attestation: the samples an account sends, and one attestation per gaze session (a run
 * of samples without a pause longer than GAZE_MAX_GAP_CENTISECONDS) with the gaze time it counted.
 */
export class AccountsGaze extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "accounts"."gaze_attestation" (
        "id" text primary key,
        "account_id" text not null references "accounts"."account" ("id") on delete cascade,
        "progress_cs" integer not null default 0 check ("progress_cs" >= 0),
        "sample_count" integer not null default 0 check ("sample_count" >= 0),
        "last_sample_at" timestamptz not null,
        "verified_at" timestamptz null,
        "expires_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        check (("verified_at" is null) = ("expires_at" is null))
      );
      create index "gaze_attestation_account" on "accounts"."gaze_attestation" ("account_id", "created_at" desc);
      create table "accounts"."gaze_sample" (
        "id" text primary key,
        "account_id" text not null references "accounts"."account" ("id") on delete cascade,
        "attestation_id" text not null references "accounts"."gaze_attestation" ("id") on delete cascade,
        "gaze_x" double precision not null check ("gaze_x" between 0 and 1),
        "gaze_y" double precision not null check ("gaze_y" between 0 and 1),
        "cog_value" double precision not null check ("cog_value" between 0 and 1),
        "emo_value" double precision not null check ("emo_value" between 0 and 1),
        "env_value" double precision not null check ("env_value" between 0 and 1),
        "confidence" double precision not null check ("confidence" between 0 and 1),
        "counted_cs" integer not null check ("counted_cs" >= 0),
        "created_at" timestamptz not null
      );
      create index "gaze_sample_account" on "accounts"."gaze_sample" ("account_id", "id" desc);
    `);
  }
}
