import type { Logger, PubSub } from '../../lib';
import { MemoryEventKind, type MemoryEntry, type MemoryEvent } from './memory.entity';

/** Each account's memory changes travel on a topic of their own: nobody else's reach a subscriber. */
export const memoryTopic = (ownerId: string) => `memory.events.${ownerId}`;

/**
 * An event must fit PostgreSQL's NOTIFY payload, so it carries the first characters of the content
 * and the metadata only when small; a dashboard reads the whole entry by id.
 */
const EVENT_CONTENT_CHARS = 1_000;
const EVENT_METADATA_BYTES = 1_024;

export interface MemoryEventPayload {
  kind: MemoryEventKind;
  at: string;
  entry: Record<string, unknown>;
}

/** Published after commit; a lost event must not undo a committed change, so failures are logged. */
export async function publishMemoryEvents(
  deps: { pubsub: PubSub; log: Logger },
  kind: MemoryEventKind,
  entries: MemoryEntry[],
): Promise<void> {
  const at = new Date().toISOString();
  for (const entry of entries) {
    const small = Buffer.byteLength(JSON.stringify(entry.metadata)) <= EVENT_METADATA_BYTES;
    const payload: MemoryEventPayload = {
      kind,
      at,
      entry: {
        ...entry,
        content: entry.content.slice(0, EVENT_CONTENT_CHARS),
        metadata: small ? entry.metadata : {},
      },
    };
    try {
      await deps.pubsub.publish(memoryTopic(entry.ownerId), payload);
    } catch (error) {
      deps.log.error({ err: error, memoryId: entry.id }, 'memory event not published');
    }
  }
}

export function fromPayload(payload: MemoryEventPayload): MemoryEvent {
  const entry = payload.entry as unknown as MemoryEntry & { lastRecalledAt: string | null };
  return {
    kind: payload.kind,
    at: new Date(payload.at),
    entry: {
      ...entry,
      createdAt: new Date(entry.createdAt),
      lastRecalledAt: entry.lastRecalledAt ? new Date(entry.lastRecalledAt) : null,
    },
  };
}
