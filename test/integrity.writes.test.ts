/**
 * After every refused request, nothing was written. A write audit (a trigger on every table of every
 * subgraph schema) records each committed row change; every REST mutation route and every GraphQL
 * mutation field is then sent the fuzz's hostile values one request at a time, and each refusal
 * must leave the audit as it found it. The audit rows are written in the writer's transaction, so
 * only committed writes count: a refusal that rolls back its work passes, a half-write does not.
 */
import pg from 'pg';
import { casesOf as graphqlCases, introspect, rootOf } from './fuzz/graphql.support';
import { casesOf as restCases, documentedOperations } from './fuzz/rest.support';
import { clip, parseJson, send, startWorld, type FuzzCase, type World } from './fuzz/support';
import { CreateAgentDocument } from './generated/graphql';
import { withDatabase } from './wallet.support';

/** Cases per route or field as the user (fewer for the other callers): bounded, seeded by the fuzz. */
const RUNS = Number(process.env.WRITES_RUNS ?? 2);

const SCHEMAS = ['accounts', 'agents', 'sessions', 'memory', 'tasks', 'wallet'];

/**
 * Tables left out of the audit, because they change without anything being refused or accepted:
 * mikro_orm_migrations is written only while a subgraph starts. (An API key's last_used_at is
 * written at most once a minute by any request with it, but the callers here sign in with tokens.)
 */
const UNAUDITED = ['mikro_orm_migrations'];

/** GraphQL codes of a client's mistake: the request was refused, not failed. */
const REFUSED = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'UNPROCESSABLE',
  'PAYMENT_REQUIRED',
  'RATE_LIMITED',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
]);

let world: World;
let db: pg.Client;

beforeAll(async () => {
  world = await startWorld();
  await withDatabase(world.t, (client) =>
    client.query(`
      create table public.write_audit (
        id bigserial primary key,
        schema_name text not null,
        table_name text not null,
        op text not null,
        at timestamptz not null default clock_timestamp()
      );
      create function public.audit_write() returns trigger language plpgsql as $$
      begin
        insert into public.write_audit (schema_name, table_name, op)
          values (tg_table_schema, tg_table_name, tg_op);
        return null;
      end $$;
      do $$
      declare audited record;
      begin
        for audited in
          select schemaname, tablename from pg_tables
           where schemaname in (${SCHEMAS.map((s) => `'${s}'`).join(', ')})
             and tablename not in (${UNAUDITED.map((t) => `'${t}'`).join(', ')})
        loop
          execute format(
            'create trigger zz_write_audit after insert or update or delete on %I.%I
               for each row execute function public.audit_write()',
            audited.schemaname, audited.tablename);
        end loop;
      end $$;`),
  );
  db = new pg.Client({ connectionString: world.t.databaseUrl });
  await db.connect();
}, 120_000);

afterAll(async () => {
  await db?.end();
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until no other connection to the platform's database is inside a transaction, twice in a
 * row after a short pause, so that a write the request started in the background has committed.
 */
async function settle() {
  await sleep(25);
  for (let quiet = 0, polls = 0; quiet < 2 && polls < 400; polls++) {
    const { rows } = await db.query<{ busy: number }>(
      `select count(*)::int as busy from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`,
    );
    quiet = rows[0].busy === 0 ? quiet + 1 : 0;
    await sleep(5);
  }
}

const lastAudit = async () =>
  Number((await db.query<{ id: string }>('select coalesce(max(id), 0) as id from write_audit')).rows[0].id);

/**
 * After an accepted request: waits until the audit has not grown for a while. What it started
 * may go on without a transaction open (a chat turn waits for the model, then fills memory), and
 * must not be blamed on the refusal after it.
 */
async function quietAudit() {
  for (let last = -1, rounds = 0; rounds < 20; rounds++) {
    await settle();
    const now = await lastAudit();
    if (now === last) return;
    last = now;
    await sleep(300);
  }
}

/** Sends each case alone and reports every refusal after which the audit grew. */
async function audit(cases: FuzzCase[], refused: (status: number, text: string) => boolean) {
  const failures: string[] = [];
  let refusals = 0;
  const statuses: Record<number, number> = {};
  // Each case settles after its answer, accepted or not, so the next one starts from a quiet database.
  await quietAudit();
  for (const entry of cases) {
    const before = await lastAudit();
    const answer = await send(world.t.url, entry.request);
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    await settle();
    if (!refused(answer.status, answer.text)) {
      await quietAudit();
      continue;
    }
    refusals++;
    const { rows } = await db.query<{ written: string }>(
      `select schema_name || '.' || table_name || ' ' || op || ' x' || count(*) as written
         from write_audit where id > $1 group by schema_name, table_name, op order by 1`,
      [before],
    );
    if (rows.length)
      failures.push(
        `${entry.label} → ${answer.status} ${clip(answer.text, 160)}; wrote ${rows.map((r) => r.written).join(', ')}`,
      );
  }
  return { failures, refusals, statuses };
}

test('the audit sees a committed write (so an empty audit means nothing was written)', async () => {
  const before = await lastAudit();
  await world.user.data(CreateAgentDocument, {
    input: { name: 'audited', ticker: `AUD${Date.now() % 10_000}` },
  });
  await settle();
  const { rows } = await db.query('select table_name from write_audit where id > $1', [before]);
  expect(rows.map((r) => r.table_name)).toContain('agent');
});

test('no refused REST mutation writes anything', async () => {
  const started = Date.now();
  const operations = (await documentedOperations(world.t.url)).filter(
    (o) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(o.method) && !o.socket,
  );
  const cases = operations.flatMap((operation) => restCases(world, operation, RUNS));
  const { failures, refusals, statuses } = await audit(cases, (status) => status >= 400 && status < 500);
  console.log(
    `REST writes: ${operations.length} mutation routes, ${cases.length} requests, ${refusals} refusals audited, ` +
      `statuses ${JSON.stringify(statuses)}, ${Date.now() - started} ms`,
  );
  expect(failures).toEqual([]);
}, 300_000);

test('no refused GraphQL mutation writes anything', async () => {
  const started = Date.now();
  const schema = await introspect(world);
  const fields = Object.values(rootOf(schema, 'mutation')?.getFields() ?? {});
  const cases = fields.flatMap((field) => graphqlCases(world, 'mutation', field, RUNS));
  const { failures, refusals, statuses } = await audit(cases, (status, text) => {
    if (status >= 400 && status < 500) return true;
    const body = parseJson(text) as
      { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] } | undefined;
    const codes = (body?.errors ?? []).map((e) => e.extensions?.code ?? '');
    const nothing = !body?.data || Object.values(body.data).every((value) => value === null);
    return codes.length > 0 && codes.every((code) => REFUSED.has(code)) && nothing;
  });
  console.log(
    `GraphQL writes: ${fields.length} mutation fields, ${cases.length} requests, ${refusals} refusals audited, ` +
      `statuses ${JSON.stringify(statuses)}, ${Date.now() - started} ms`,
  );
  expect(failures).toEqual([]);
}, 300_000);
