/** One Server-Sent Event as it arrived: its `event:` and `id:` lines (if any) and its data lines joined. */
export interface ServerSentEvent {
  event?: string;
  id?: string;
  data: string;
}

/**
 * The events of a text/event-stream body (comments skipped, multi-line data joined by newlines),
 * read as the bytes come. A consumer that stops early releases the body.
 */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { event?: string; id?: string; data: string[] } = { data: [] };
  const field = (line: string, name: string) => line.slice(name.length + 1).replace(/^ /, '');
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (current.data.length) yield { ...current, data: current.data.join('\n') };
          current = { data: [] };
        } else if (line.startsWith('data:')) current.data.push(field(line, 'data'));
        else if (line.startsWith('event:')) current.event = field(line, 'event');
        else if (line.startsWith('id:')) current.id = field(line, 'id');
      }
    }
    if (current.data.length) yield { ...current, data: current.data.join('\n') };
  } finally {
    reader.releaseLock();
  }
}
