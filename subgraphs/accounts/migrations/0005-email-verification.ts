import { Migration } from '@mikro-orm/migrations';

/**
 * E-mail verification: when the address was proven, and when a link was last sent (one a minute).
 * Admins that exist already are the operators who installed the platform: they count as verified.
 */
export class AccountsEmailVerification extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "accounts"."account"
        add column "email_verified_at" timestamptz null,
        add column "verification_sent_at" timestamptz null;`);
    this.addSql(`update "accounts"."account" set "email_verified_at" = now() where "role" = 'ADMIN';`);
  }
}
