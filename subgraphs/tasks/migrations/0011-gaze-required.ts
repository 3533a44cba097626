import { Migration } from '@mikro-orm/migrations';

/** A task only an account with a verified gaze attestation may claim (001's "gaze verification if flagged"). */
export class TasksGazeRequired extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tasks"."task" add column "gaze_required" boolean not null default false;`);
  }
}
