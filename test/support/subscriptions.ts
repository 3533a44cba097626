import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Transport = 'graphql-ws' | 'sse';

export interface Subscription<T> {
  next(timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Subscribes through the router over graphql-ws or SSE and hands out results one by one. */
export function subscribe<T, V>(
  transport: Transport,
  url: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  credential?: string,
): Subscription<T> {
  const request = { query: print(document), variables: variables as Record<string, unknown> };
  const authorization = credential ? { authorization: `Bearer ${credential}` } : undefined;
  const client =
    transport === 'graphql-ws'
      ? createWsClient({
          url: url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: true,
          connectionParams: authorization,
        })
      : createSseClient({ url, retryAttempts: 0, headers: authorization });
  const iterator = client.iterate(request) as AsyncIterableIterator<ExecutionResult<T>>;
  return {
    async next(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no ${transport} event within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        const { value, done } = await Promise.race([iterator.next(), timeout]);
        if (done) throw new Error(`${transport} subscription ended`);
        if (value.errors?.length || !value.data)
          throw new Error(`subscription error: ${JSON.stringify(value.errors)}`);
        return value.data;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await iterator.return?.();
      client.dispose();
    },
  };
}

/**
 * The router opens its upstream subscription asynchronously, so an event published at once can
 * precede it. Repeats `trigger` until the first event arrives and returns that event.
 */
export async function firstEventAfter<T>(
  subscription: Subscription<T>,
  trigger: () => Promise<unknown>,
): Promise<T> {
  const first = subscription.next(10_000);
  first.catch(() => undefined);
  for (let attempt = 0; attempt < 50; attempt++) {
    await trigger();
    const event = await Promise.race([first, new Promise<undefined>((resolve) => setTimeout(resolve, 200))]);
    if (event) return event;
  }
  return first;
}
