import type { SubgraphDefinition } from '../../lib';
import { Feedback, Message, Turn, UsageRecord } from './chat.entities';
import { ChatResolver } from './chat.resolver';
import { abortAllTurns, abortLocalTurn, CANCEL_TOPIC } from './chat.turns';
import { GatewayResolver } from './gateway.resolver';
import { SessionsInit } from './migrations/0001-init';
import { SessionsChat } from './migrations/0002-chat';
import { Session } from './session.entity';
import { SessionResolver } from './session.resolver';

export const sessions: SubgraphDefinition = {
  name: 'sessions',
  entities: [Session, Message, Turn, Feedback, UsageRecord],
  migrations: [
    { name: '0001-init', class: SessionsInit },
    { name: '0002-chat', class: SessionsChat },
  ],
  resolvers: [SessionResolver, ChatResolver, GatewayResolver],
  entityTypes: { Session },
  // Cancels may reach any replica; the one running the turn aborts it. At shutdown every local
  // turn is aborted and recorded as interrupted before the database closes.
  background: ({ pubsub, log }) => {
    const cancels = pubsub.subscribe(CANCEL_TOPIC);
    void (async () => {
      for await (const message of cancels) abortLocalTurn((message as { turnId: string }).turnId);
    })().catch((error: unknown) => log.error({ err: error }, 'turn cancel listener stopped'));
    return {
      async stop() {
        await cancels.return?.();
        await abortAllTurns();
      },
    };
  },
};
