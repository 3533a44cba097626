import { Migration } from '@mikro-orm/migrations';

/**
 * The planner's estimate of how many rows a query returns, read from EXPLAIN: the search asks it
 * for `total` inside its own statement instead of sending EXPLAIN on a second connection. EXPLAIN
 * without ANALYZE runs nothing it explains, but EXECUTE would run a second statement after a `;`:
 * give it only SQL whose every value format() has quoted (%L), as the search does.
 */
export class MemoryPlanRows extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function "memory"."plan_rows"("query" text) returns bigint language plpgsql as $$
        declare "plan" json;
        begin
          execute 'explain (format json) ' || "query" into "plan";
          return round(("plan" -> 0 -> 'Plan' ->> 'Plan Rows')::double precision);
        end $$;`);
  }
}
