import type { EntityManager } from '../../../lib';
import { ChannelAdapterStatus, ChannelName } from './channel.entities';
import { channelSettings } from './channel.protocols';

/** The channels as SQL rows: constants of ours, never input. */
const CHANNELS = Object.values(ChannelName)
  .map((name) => `('${name}')`)
  .join(', ');

interface Figures {
  channel: ChannelName;
  received: string | null;
  last_inbound_at: Date | null;
  sent: string | null;
  failed: string | null;
  last_outbound_at: Date | null;
  unanswered: string | null;
  last_error: string | null;
}

/**
 * Each channel's figures from what is stored (so every replica reports the same): messages taken
 * and answers sent, the failures of either, and the latest error.
 */
export async function channelStatus(em: EntityManager): Promise<ChannelAdapterStatus[]> {
  const rows = await em.execute<Figures[]>(
    `select c."channel",
       (select count(*) from "sessions"."channel_inbound" i where i."channel" = c."channel") as "received",
       (select max("created_at") from "sessions"."channel_inbound" i where i."channel" = c."channel") as "last_inbound_at",
       (select count(*) from "sessions"."channel_inbound" i where i."channel" = c."channel" and i."error" is not null) as "unanswered",
       (select count(*) filter (where o."state" = 'SENT') from "sessions"."channel_outbound" o where o."channel" = c."channel") as "sent",
       (select count(*) filter (where o."state" = 'FAILED') from "sessions"."channel_outbound" o where o."channel" = c."channel") as "failed",
       (select max("updated_at") from "sessions"."channel_outbound" o where o."channel" = c."channel" and o."state" = 'SENT') as "last_outbound_at",
       (select e."error" from (
          select i."error", i."updated_at" from "sessions"."channel_inbound" i
            where i."channel" = c."channel" and i."error" is not null
          union all
          select o."last_error", o."updated_at" from "sessions"."channel_outbound" o
            where o."channel" = c."channel" and o."last_error" is not null
        ) e order by e."updated_at" desc limit 1) as "last_error"
     from (values ${CHANNELS}) as c("channel")`,
  );
  return rows.map((row) =>
    Object.assign(new ChannelAdapterStatus(), {
      name: row.channel,
      configured: channelSettings(row.channel) !== undefined,
      messagesReceived: Number(row.received ?? 0),
      messagesSent: Number(row.sent ?? 0),
      errors: Number(row.failed ?? 0) + Number(row.unanswered ?? 0),
      lastError: row.last_error,
      lastInboundAt: row.last_inbound_at ? new Date(row.last_inbound_at) : null,
      lastOutboundAt: row.last_outbound_at ? new Date(row.last_outbound_at) : null,
    }),
  );
}
