import type { Api } from './api';
import type { Feed, LiveConnection, Request } from './live';
import { BoundedList, el, formatMinor, timeOf } from './list';
import {
  CHAT_EVENTS,
  CHAT_STREAM,
  LEDGER_SINCE,
  MEMORY_EVENTS,
  MEMORIES_SINCE,
  TASK_EVENTS,
  WALLET_EVENTS,
} from './operations';

/** A panel: a titled section with a bounded list and a line for its errors. */
function panel(root: HTMLElement, id: string) {
  const section = root.querySelector<HTMLElement>(`#${id}`)!;
  const list = new BoundedList<string>(section.querySelector<HTMLElement>('.rows')!);
  const problem = section.querySelector<HTMLElement>('.problem')!;
  return { section, list, onError: (message: string) => void (problem.textContent = message) };
}

interface ChatEvent {
  sessionId: string;
  turnId: string;
  seq: number;
  kind: 'STARTED' | 'TOKEN' | 'COMPLETED' | 'ERROR';
  delta: string | null;
  at: string;
  usage: { totalTokens: number } | null;
  error: { code: string; message: string } | null;
}

/** An answer's text on screen is cut here; the stream goes on, the DOM does not grow past it. */
const MAX_ANSWER_CHARS = 20_000;
/** Sessions resumed one by one after a reconnect (chatEvents resumes one session at a time). */
const RESUMED_SESSIONS = 10;

/**
 * Chat sessions, one row per turn, its answer growing token by token. Every session's events come
 * live; after a reconnect each recent session is also resumed from the last seq shown, so a turn
 * streamed during the gap is filled in. An event at or below a session's last seq is a repeat.
 */
export function chatFeed(root: HTMLElement, live: LiveConnection): Feed {
  const { list, onError } = panel(root, 'chat');
  const lastSeq = new Map<string, number>();

  const apply = (data: unknown) => {
    const event =
      (data as { chatEvents?: ChatEvent; chatStream?: ChatEvent }).chatEvents ??
      (data as { chatStream: ChatEvent }).chatStream;
    if (event.seq <= (lastSeq.get(event.sessionId) ?? 0)) return;
    lastSeq.delete(event.sessionId); // re-inserted last: the map's order is recency
    lastSeq.set(event.sessionId, event.seq);
    while (lastSeq.size > 100) lastSeq.delete(lastSeq.keys().next().value!);
    const row = list.upsert(event.turnId, () => {
      const row = el('li', 'turn streaming');
      row.dataset.turn = event.turnId;
      row.dataset.session = event.sessionId;
      row.append(el('span', 'meta', `${timeOf(event.at)} · session …${event.sessionId.slice(-6)}`));
      row.append(el('span', 'state', 'streaming'), el('p', 'answer'));
      return row;
    });
    const answer = row.querySelector('.answer')!;
    const state = row.querySelector('.state')!;
    if (event.kind === 'TOKEN' && event.delta && answer.textContent!.length < MAX_ANSWER_CHARS)
      answer.append(event.delta);
    if (event.kind === 'COMPLETED') {
      row.classList.replace('streaming', 'completed');
      state.textContent = `completed · ${event.usage?.totalTokens ?? '?'} tokens`;
    }
    if (event.kind === 'ERROR') {
      row.classList.replace('streaming', 'failed');
      state.textContent = `${event.error?.code}: ${event.error?.message}`;
    }
  };

  let connectedBefore = false;
  const feed: Feed = {
    requests() {
      const requests: Request[] = [{ query: CHAT_EVENTS }];
      if (connectedBefore)
        for (const [sessionId, afterSeq] of [...lastSeq].slice(-RESUMED_SESSIONS))
          requests.push({ query: CHAT_EVENTS, variables: { sessionId, afterSeq } });
      connectedBefore = true;
      return requests;
    },
    onData: apply,
    onError,
  };

  const form = root.querySelector<HTMLFormElement>('#chat-form')!;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = form.elements.namedItem('content') as HTMLInputElement;
    const model = (form.elements.namedItem('model') as HTMLInputElement).value.trim();
    if (!content.value.trim()) return;
    const input = { content: content.value, ...(model ? { model } : {}) };
    content.value = '';
    // The answer also arrives through chatEvents; whichever brings an event first shows it.
    live.once({ query: CHAT_STREAM, variables: { input } }, apply, (error) => error && onError(error));
  });
  return feed;
}

interface TaskEvent {
  seq: string;
  transition: string;
  previousStatus: string | null;
  at: string;
  task: { id: string; title: string; status: string; progress: number | null };
}

/** Task events, one row each, resumed from the last seq seen (the platform replays the gap). */
export function taskFeed(root: HTMLElement): Feed {
  const { list, onError } = panel(root, 'tasks');
  let after: string | undefined;
  return {
    requests: () => [{ query: TASK_EVENTS, variables: after ? { after } : {} }],
    onData(data) {
      const event = (data as { taskEvents: TaskEvent }).taskEvents;
      if (after !== undefined && BigInt(event.seq) <= BigInt(after)) return;
      after = event.seq;
      list.upsert(event.seq, () => {
        const row = el('li', 'event');
        row.dataset.seq = event.seq;
        row.dataset.task = event.task.id;
        const progress = event.task.progress === null ? '' : ` · ${event.task.progress}%`;
        const move = event.previousStatus ? `${event.previousStatus} → ` : '';
        row.append(
          el('span', 'meta', `${timeOf(event.at)} · #${event.seq}`),
          el('strong', 'transition', event.transition),
          el('span', 'title', event.task.title),
          el('span', 'status', `${move}${event.task.status}${progress}`),
        );
        return row;
      });
    },
    onError,
  };
}

/**
 * For feeds without a cursor (wallet, memory): the time of the newest row shown, from which a
 * reconnect reads what the socket missed. Before any row, the sign-in time less a minute of clock
 * difference; a row read twice is shown once (rows are keyed by id).
 */
function watermark() {
  let since = new Date(Date.now() - 60_000).toISOString();
  return {
    get: () => since,
    saw: (at: string) => void (at > since && (since = at)),
  };
}

interface LedgerEntry {
  id: string;
  asset: string;
  kind: string;
  category: string;
  postedDelta: string;
  postedAfter: string;
  decimals: number;
  memo: string | null;
  createdAt: string;
}

/** Wallet movements, one row per ledger entry with the balance after it. */
export function walletFeed(root: HTMLElement, api: Api): Feed {
  const { list, onError } = panel(root, 'wallet');
  const since = watermark();
  const show = (entry: LedgerEntry) => {
    since.saw(entry.createdAt);
    list.upsert(entry.id, () => {
      const row = el('li', 'entry');
      row.dataset.entry = entry.id;
      row.append(
        el('span', 'meta', `${timeOf(entry.createdAt)} · ${entry.category.toLowerCase()}`),
        el('strong', 'amount', `${formatMinor(entry.postedDelta, entry.decimals)} ${entry.asset}`),
        el('span', 'balance', `balance ${formatMinor(entry.postedAfter, entry.decimals).slice(1)}`),
        el('span', 'memo', entry.memo ?? ''),
      );
      return row;
    });
  };
  return {
    requests: () => [{ query: WALLET_EVENTS }],
    onData: (data) => show((data as { walletEvents: LedgerEntry }).walletEvents),
    async resume() {
      const { ledgerEntries } = await api.request<{ ledgerEntries: { nodes: LedgerEntry[] } }>(LEDGER_SINCE, {
        since: since.get(),
      });
      for (const entry of [...ledgerEntries.nodes].reverse()) show(entry);
    },
    onError,
  };
}

interface MemoryEntry {
  id: string;
  tier: string;
  category: string;
  content: string;
  source: string;
  createdAt: string;
}

/** Memory writes, one row per entry (struck through once deleted). */
export function memoryFeed(root: HTMLElement, api: Api): Feed {
  const { list, onError } = panel(root, 'memory');
  const since = watermark();
  const show = (entry: MemoryEntry, deleted = false) => {
    since.saw(entry.createdAt);
    const row = list.upsert(entry.id, () => {
      const row = el('li', 'entry');
      row.dataset.entry = entry.id;
      row.append(
        el('span', 'meta', `${timeOf(entry.createdAt)} · ${entry.tier.toLowerCase()} · ${entry.source}`),
        el('strong', 'category', entry.category),
        el('span', 'content', entry.content.slice(0, 300)),
      );
      return row;
    });
    if (deleted) row.classList.add('deleted');
  };
  return {
    requests: () => [{ query: MEMORY_EVENTS }],
    onData(data) {
      const { memoryEvents } = data as { memoryEvents: { kind: string; entry: MemoryEntry } };
      show(memoryEvents.entry, memoryEvents.kind === 'DELETED');
    },
    async resume() {
      const { memories } = await api.request<{ memories: { nodes: MemoryEntry[] } }>(MEMORIES_SINCE, {
        since: since.get(),
      });
      for (const entry of [...memories.nodes].reverse()) show(entry);
    },
    onError,
  };
}
