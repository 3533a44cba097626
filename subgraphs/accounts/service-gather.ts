/**
 * Asks every other subgraph for one of its process's answers (its /logs or /stats) beside this
 * process's own. Services that share a process (the single-process launcher) answer alike; their
 * answers are told apart by the process instance and kept once.
 */
import { AppError, SUBGRAPHS, type SubgraphContext } from '../../lib';

export async function gatherFromServices<T extends { instance: string }>(
  ctx: SubgraphContext,
  own: T,
  path: string,
): Promise<{ answers: T[]; unreachable: string[] }> {
  const answers = new Map([[own.instance, own]]);
  const unreachable: string[] = [];
  await Promise.all(
    SUBGRAPHS.filter((name) => name !== 'accounts').map(async (name) => {
      try {
        const answer = await ctx.peers.getJson<T>(name, path);
        answers.set(answer.instance, answer);
      } catch {
        unreachable.push(name);
      }
    }),
  );
  return { answers: [...answers.values()], unreachable: unreachable.sort() };
}

export function requireAdmin(ctx: SubgraphContext, what: string): void {
  if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', `only an admin may read ${what}`);
}
