import type { EntityManager, Logger, Peers } from '../../lib';
import { MessageRole, type Turn } from './chat.entities';
import { Session } from './session.entity';

/*
 * What chat leaves in the memory service: each completed turn becomes an episodic entry (and the
 * open session's working memory), a closed or deleted session's working memory is forgotten. Both
 * are reported after the change committed, keyed so a retry changes nothing, and never fail the
 * chat: the memory service being down costs the memory, which is logged, not the answer.
 */

const RECORD = `mutation RememberTurn($input: ChatTurnMemoryInput!) { recordChatTurnMemory(input: $input) }`;
const FORGET = `mutation ForgetSession($o: ID!, $s: ID!) { forgetSessionMemory(ownerId: $o, sessionId: $s) }`;

export async function rememberTurn(
  deps: { em: EntityManager; peers: Peers; log: Logger },
  turn: Turn,
  answer: string,
  sessionOpen: boolean,
): Promise<void> {
  try {
    const question = [...turn.context].reverse().find((message) => message.role === MessageRole.USER);
    const session = await deps.em.fork().findOne(Session, turn.sessionId);
    await deps.peers.request('memory', RECORD, {
      input: {
        turnId: turn.id,
        ownerId: turn.ownerId,
        sessionId: turn.sessionId,
        agentId: session?.agentId ?? null,
        question: question?.content ?? '',
        answer,
        working: sessionOpen,
      },
    });
  } catch (error) {
    deps.log.warn({ err: error, turnId: turn.id }, 'chat turn not remembered');
  }
}

export async function forgetSession(
  deps: { peers: Peers; log: Logger },
  session: { id: string; ownerId: string },
): Promise<void> {
  try {
    await deps.peers.request('memory', FORGET, { o: session.ownerId, s: session.id });
  } catch (error) {
    deps.log.warn({ err: error, sessionId: session.id }, 'working memory of a closed session not forgotten');
  }
}
