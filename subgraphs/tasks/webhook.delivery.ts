import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import {
  metrics,
  pinnedLookup,
  watchGauge,
  type EntityManager,
  type Logger,
  type MikroORM,
  type Stoppable,
} from '../../lib';
import type { Task } from './task.entity';
import type { TaskEventPayload } from './task.events';
import { TaskTransition } from './task.machine';
import { resolveWebhookHost, type ResolvedAddress } from './webhook.address';
import {
  WebhookDelivery,
  WebhookDeliveryState,
  WebhookEndpoint,
  WebhookEndpointStatus,
} from './webhook.entity';

/** The label of the figures this module keeps on /metrics. */
const TASKS = { subgraph: 'tasks' } as const;

/** The event type each transition is delivered as; 004 names the ones it documents. */
export const WEBHOOK_EVENT_TYPES: Record<TaskTransition, string> = {
  [TaskTransition.CREATE]: 'task.created',
  [TaskTransition.FUND]: 'task.funded',
  [TaskTransition.CLAIM]: 'task.accepted',
  [TaskTransition.START]: 'task.started',
  [TaskTransition.REPORT_PROGRESS]: 'task.progress',
  [TaskTransition.DELIVER]: 'task.delivered',
  [TaskTransition.CONFIRM]: 'task.confirmed',
  [TaskTransition.DISPUTE]: 'task.disputed',
  [TaskTransition.RESOLVE]: 'task.resolved',
  [TaskTransition.CANCEL]: 'task.cancelled',
  [TaskTransition.FAIL]: 'task.failed',
  [TaskTransition.EXPIRE]: 'task.expired',
};
export const ALL_EVENTS = '*';

/** Standard Webhooks' schedule: the delay before each attempt, the first one immediate. */
const DEFAULT_RETRY_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/** `WEBHOOK_RETRY_SCHEDULE` (milliseconds, comma-separated) replaces it; tests use short delays. */
export function retrySchedule(env: NodeJS.ProcessEnv = process.env): number[] {
  const text = env.WEBHOOK_RETRY_SCHEDULE?.trim();
  if (!text) return DEFAULT_RETRY_SCHEDULE_MS;
  const delays = text.split(',').map((part) => Number(part.trim()));
  return delays.every((delay) => Number.isSafeInteger(delay) && delay >= 0)
    ? delays
    : DEFAULT_RETRY_SCHEDULE_MS;
}

const ATTEMPT_TIMEOUT_MS = 10_000;
/** A claimed delivery is hidden this long; a worker that dies mid-attempt hands it back after it. */
const LEASE_MS = 60_000;
const POLL_MS = 1_000;
const BATCH = 20;

/**
 * One delivery per ACTIVE endpoint of the task's creator that wants this event type. Runs right
 * after the transition commits, on a fork so it never flushes the caller's unit of work.
 */
export async function enqueueWebhookDeliveries(
  deps: { em: EntityManager; log: Logger },
  task: Task,
  event: TaskEventPayload,
): Promise<void> {
  const type = WEBHOOK_EVENT_TYPES[event.transition];
  const em = deps.em.fork();
  const endpoints = await em.find(
    WebhookEndpoint,
    {
      ownerId: task.creatorId,
      status: WebhookEndpointStatus.ACTIVE,
      events: { $overlap: [type, ALL_EVENTS] },
    },
    { orderBy: { id: 'asc' } },
  );
  if (!endpoints.length) return;
  const payload = JSON.stringify({ type, timestamp: event.at, data: { task: event.task } });
  for (const endpoint of endpoints)
    em.create(WebhookDelivery, {
      endpointId: endpoint.id,
      ownerId: endpoint.ownerId,
      eventType: type,
      payload,
    });
  await em.flush();
  wakeWebhookWorker(deps.em);
}

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  payload: string;
  attempts: number;
  url: string;
  secret: string;
}

/** POSTs to the address that was checked, so the connection cannot be steered elsewhere by DNS. */
function post(url: URL, address: ResolvedAddress, headers: Record<string, string>, body: string) {
  return new Promise<number>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        lookup: pinnedLookup(address),
        agent: false,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      },
      // Redirects are answers like any other: never followed, and not a 2xx.
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Delivers due deliveries from the WebhookDelivery table: a row claimed with
 * `FOR UPDATE SKIP LOCKED` is leased (its next attempt moved past the lease) and committed before
 * the HTTP call, so any number of replicas share the work, no transaction stays open across a
 * request, and a crashed attempt is retried once the lease lapses. Only the oldest pending delivery
 * of each endpoint is claimable, so one endpoint receives its events in order.
 */
export class WebhookWorker {
  private stopped = false;
  private woken = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeSleeper: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly em: EntityManager,
    private readonly log: Logger,
  ) {
    this.loop = this.run();
  }

  /** Looks for due work now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    clearTimeout(this.timer);
    this.wakeSleeper?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let wait = POLL_MS;
      try {
        wait = Math.min(wait, await this.deliverDue());
      } catch (error) {
        this.log.error({ err: error }, 'webhook worker pass failed');
      }
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped || ms <= 0) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeSleeper = () => {
        this.wakeSleeper = undefined;
        this.woken = false;
        resolve();
      };
      this.timer = setTimeout(this.wakeSleeper, ms);
      // Waiting for work never keeps a process alive on its own.
      this.timer.unref();
    });
  }

  /** One batch; answers how soon to look again (0 when there may be more due now). */
  async deliverDue(): Promise<number> {
    const now = new Date();
    const claimed: ClaimedDelivery[] = await this.em.getConnection().execute(
      `update "tasks"."webhook_delivery" as "d"
       set "attempts" = "d"."attempts" + 1, "next_attempt_at" = ?, "updated_at" = ?
       from "tasks"."webhook_endpoint" as "e"
       where "e"."id" = "d"."endpoint_id" and "d"."id" in (
         select "c"."id" from "tasks"."webhook_delivery" as "c"
         where "c"."state" = 'PENDING' and "c"."next_attempt_at" <= ?
           and not exists (select 1 from "tasks"."webhook_delivery" as "earlier"
             where "earlier"."endpoint_id" = "c"."endpoint_id" and "earlier"."state" = 'PENDING'
               and "earlier"."seq" < "c"."seq")
         order by "c"."seq" limit ${BATCH}
         for update of "c" skip locked)
       returning "d"."id", "d"."endpoint_id", "d"."payload", "d"."attempts", "e"."url", "e"."secret"`,
      [new Date(now.getTime() + LEASE_MS), now, now],
    );
    // One delivery that cannot be recorded is logged and left to its lease; the others still are.
    const retries = await Promise.all(
      claimed.map((delivery) =>
        this.attempt(delivery).catch((error: unknown) => {
          this.log.error({ err: error, deliveryId: delivery.id }, 'webhook attempt not recorded; skipped');
          return null;
        }),
      ),
    );
    if (claimed.length === BATCH) return 0;
    return Math.min(POLL_MS, ...retries.map((at) => (at ? at.getTime() - Date.now() : POLL_MS)));
  }

  /** One attempt; answers when the next one is due, if it is a retry. */
  private async attempt(delivery: ClaimedDelivery): Promise<Date | null> {
    const sentAt = new Date();
    let status: number | null = null;
    let failure: string | null = null;
    try {
      const url = new URL(delivery.url);
      const address = await resolveWebhookHost(url);
      const signature = new Webhook(delivery.secret).sign(delivery.id, sentAt, delivery.payload);
      status = await post(
        url,
        address,
        {
          'content-type': 'application/json',
          'user-agent': 'Agentry-Webhooks/1',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        delivery.payload,
      );
    } catch (error) {
      failure = (error as Error).message;
    }
    const connection = this.em.getConnection();
    const done = new Date();
    // Outcomes are written only while this attempt still holds the lease ("attempts" unchanged): an
    // attempt that outlived it finds the delivery claimed again and leaves the newer attempt's say.
    const log = this.log.child({ deliveryId: delivery.id, endpointId: delivery.endpoint_id });
    if (status !== null && status >= 200 && status < 300) {
      await connection.execute(
        `update "tasks"."webhook_delivery" set "state" = 'SUCCEEDED', "next_attempt_at" = null,
           "last_status_code" = ?, "last_error" = null, "delivered_at" = ?, "updated_at" = ?
         where "id" = ? and "state" = 'PENDING' and "attempts" = ?`,
        [status, done, done, delivery.id, delivery.attempts],
      );
      metrics.webhookDeliveries.inc({ ...TASKS, outcome: 'delivered' });
      return null;
    }
    if (status === 410) {
      // Gone: the receiver asks for no more. The endpoint and everything still queued for it stop.
      await connection.execute(
        `with "disabled" as (
           update "tasks"."webhook_endpoint" set "status" = 'DISABLED', "disabled_reason" = ? where "id" = ?)
         update "tasks"."webhook_delivery" set "state" = 'FAILED', "next_attempt_at" = null, "updated_at" = ?,
           "last_status_code" = case when "id" = ? then 410 else "last_status_code" end,
           "last_error" = case when "id" = ? then 'the endpoint answered 410 Gone' else 'endpoint disabled' end
         where "endpoint_id" = ? and "state" = 'PENDING'`,
        [
          `the endpoint answered 410 Gone at ${done.toISOString()}`,
          delivery.endpoint_id,
          done,
          delivery.id,
          delivery.id,
          delivery.endpoint_id,
        ],
      );
      metrics.webhookDeliveries.inc({ ...TASKS, outcome: 'gone' });
      log.warn('webhook endpoint answered 410: disabled');
      return null;
    }
    const schedule = retrySchedule();
    const next =
      delivery.attempts < schedule.length ? new Date(done.getTime() + schedule[delivery.attempts]!) : null;
    await connection.execute(
      `update "tasks"."webhook_delivery" set "state" = ?, "next_attempt_at" = ?, "last_status_code" = ?,
         "last_error" = ?, "updated_at" = ?
       where "id" = ? and "state" = 'PENDING' and "attempts" = ?`,
      [
        next ? WebhookDeliveryState.PENDING : WebhookDeliveryState.FAILED,
        next,
        status,
        failure ?? `the endpoint answered ${status}`,
        done,
        delivery.id,
        delivery.attempts,
      ],
    );
    metrics.webhookDeliveries.inc({ ...TASKS, outcome: next ? 'retry' : 'failed' });
    log.info({ attempts: delivery.attempts, status, dead: !next }, 'webhook attempt failed');
    return next;
  }
}

/** The running worker of each database connection pool, i.e. of each tasks subgraph in this process. */
const workers = new Map<unknown, WebhookWorker>();

/** Starts the tasks subgraph's worker; the subgraph stops it before closing its database. */
export function startWebhookWorker({ orm, log }: { orm: MikroORM; log: Logger }): Stoppable {
  const em = orm.em.fork() as unknown as EntityManager;
  const connection = em.getConnection();
  const worker = new WebhookWorker(em, log.child({ component: 'webhooks' }));
  workers.set(connection, worker);
  const unwatch = watchGauge('webhookQueue', TASKS.subgraph, async () => {
    // Through knex, past MikroORM's logger: a scrape is not the platform's traffic, and must not
    // move agentry_sql_statements_total (tests count the statements a request costs with it).
    const { rows } = await connection
      .getKnex()
      .raw<{ rows: { depth: number }[] }>(
        `select count(*)::int as "depth" from "tasks"."webhook_delivery" where "state" = 'PENDING'`,
      );
    return rows[0].depth;
  });
  return {
    async stop() {
      unwatch();
      if (workers.get(connection) === worker) workers.delete(connection);
      await worker.stop();
    },
  };
}

/** New work is looked at now rather than at the next poll (by this process's worker, if it runs one). */
export function wakeWebhookWorker(em: EntityManager): void {
  workers.get(em.getConnection())?.wake();
}
