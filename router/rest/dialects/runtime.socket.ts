/**
 * 002's `/ws`: after `{"type":"connected"}`, the caller's own changes as Ironclad's event bus
 * publishes them (crates/ironclad-server/src/ws.rs): task changes, the answers streaming in their
 * sessions, their memory being stored or deleted, and their cron jobs' runs. Every feed is a subscription of the caller,
 * so nothing of another account is pushed.
 */
import {
  MemoryEventStreamDocument,
  ScheduleRunStreamDocument,
  SessionEventStreamDocument,
  TaskEventStreamDocument,
  type ScheduleRunFieldsFragment,
  type SessionEventStreamSubscription,
} from '../generated/graphql';
import { fromQuery, lower } from '../mapping';
import { feed, socket } from '../types';
import { task } from './hermes';

type ChatEvent = SessionEventStreamSubscription['chatEvents'];

/**
 * An answer in a session as Ironclad's streaming handler publishes it (api/routes/agent/streaming.rs):
 * `agent_working` when inference starts, a `stream_chunk` per token, and a last `stream_chunk`
 * with `done: true` (carrying the error of a failed answer). The turn id is added to each.
 */
function sessionFrame(e: ChatEvent) {
  const ids = { session_id: e.sessionId, turn_id: e.turnId };
  switch (e.kind) {
    case 'STARTED':
      return { type: 'agent_working', agent_id: null, workstation: 'llm', activity: 'inference', ...ids };
    case 'TOKEN':
      return { type: 'stream_chunk', delta: e.delta ?? '', done: false, ...ids };
    case 'COMPLETED':
      return { type: 'stream_chunk', delta: '', done: true, ...ids };
    case 'ERROR':
      return {
        type: 'stream_chunk',
        delta: '',
        done: true,
        ...ids,
        error: e.error?.message ?? 'answer failed',
      };
  }
}

/** A cron run as `GET /api/cron/runs` lists it. */
export const cronRun = (r: ScheduleRunFieldsFragment) => ({
  id: r.id,
  job_id: r.scheduleId,
  due_at: r.dueAt,
  ran_at: r.ranAt,
  status: lower(r.status),
  task_id: r.taskId,
  error: r.error,
});

export const runtimeSocket = socket({
  path: '/ws',
  summary:
    'Real-time event push: task created/updated, answers streaming in your sessions (agent_working, ' +
    'stream_chunk), memory stored/deleted, cron runs. (Ironclad publishes no memory frame: memory_stored and ' +
    'memory_deleted are this platform’s, as is cron_run, a run of one of your cron jobs.)',
  operation: TaskEventStreamDocument,
  // Ironclad's ws.rs: a welcome frame, then an ack for each text frame the client sends.
  greeting: { type: 'connected', version: '1.0.0', timestamp: '2026-01-01T00:00:00.000Z' },
  hello: ({ version }) => ({ type: 'connected', version, timestamp: new Date().toISOString() }),
  ack: { type: 'ack' },
  // Ironclad's ws_authenticate: x-api-key or Bearer, else `?ticket=` from POST /api/ws-ticket.
  tickets: true,
  variables: {
    agentId: fromQuery('agent_id', undefined, 'only tasks of this agent (task pushes only)'),
    taskId: fromQuery('task_id', undefined, 'only this task (task pushes only)'),
  },
  frame: ({ taskEvents: e }) => ({
    type: e.kind === 'CREATED' ? 'task.created' : 'task.updated',
    task: task(e.task),
    at: e.at,
  }),
  feeds: [
    feed({
      operation: ScheduleRunStreamDocument,
      frame: ({ scheduleRunEvents: r }) => ({ type: 'cron_run', run: cronRun(r) }),
    }),
    feed({ operation: SessionEventStreamDocument, frame: ({ chatEvents }) => sessionFrame(chatEvents) }),
    feed({
      operation: MemoryEventStreamDocument,
      frame: ({ memoryEvents: e }) => ({
        type: e.kind === 'STORED' ? 'memory_stored' : 'memory_deleted',
        entry: {
          id: e.entry.id,
          tier: lower(e.entry.tier),
          category: e.entry.category,
          content: e.entry.content,
          session_id: e.entry.sessionId,
        },
        at: e.at,
      }),
    }),
  ],
});
