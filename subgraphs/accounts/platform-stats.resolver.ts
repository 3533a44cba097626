/**
 * 002's /api/stats/cache and /capacity: each process's cache hit counts and bounded resources
 * (lib/process-stats.ts), gathered from every service. Admins only: they describe the deployment.
 */
import { Authenticated, processStats, type ProcessStats, type SubgraphContext } from '../../lib';
import { Ctx, Field, Float, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { gatherFromServices, requireAdmin } from './service-gather';

@ObjectType({ description: 'Hits and misses of one cache since its process started.' })
class CacheStats {
  @Field({ description: 'e.g. router.credentials (API keys and the local owner).' })
  name!: string;

  @Field(() => Int)
  hits!: number;

  @Field(() => Int)
  misses!: number;

  @Field(() => Int, { description: 'Entries held now.' })
  entries!: number;
}

@ObjectType({ description: 'How full one bounded resource of a process is.' })
class ResourceUse {
  @Field({ description: 'e.g. sessions.db_pool, sessions.running_turns.' })
  name!: string;

  @Field(() => Int)
  used!: number;

  @Field(() => Int, { nullable: true, description: 'Null when unbounded.' })
  limit!: number | null;

  @Field(() => Int, { description: 'Waiting for one.' })
  waiting!: number;

  @Field(() => Float, { nullable: true, description: 'used / limit.' })
  utilization!: number | null;
}

@ObjectType({ description: "Every service's caches and resources; replicas of one name are added up." })
class PlatformStats {
  @Field(() => [CacheStats])
  caches!: CacheStats[];

  @Field(() => [ResourceUse])
  resources!: ResourceUse[];

  @Field(() => [String], { description: 'Services that did not answer; their figures are missing.' })
  unreachable!: string[];
}

/** Adds up the figures of one name across processes (a service's replicas). */
function sum<T extends { name: string }>(items: T[], add: (a: T, b: T) => T): T[] {
  const byName = new Map<string, T>();
  for (const item of items) {
    const seen = byName.get(item.name);
    byName.set(item.name, seen ? add(seen, item) : item);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

@Resolver()
export class PlatformStatsResolver {
  @Authenticated()
  @Query(() => PlatformStats, { description: "Every service's caches and bounded resources. Admins only." })
  async platformStats(@Ctx() ctx: SubgraphContext): Promise<PlatformStats> {
    requireAdmin(ctx, 'platform statistics');
    const { answers, unreachable } = await gatherFromServices<ProcessStats>(ctx, processStats(), '/stats');
    const caches = sum(
      answers.flatMap((a) => a.caches),
      (a, b) => ({
        name: a.name,
        hits: a.hits + b.hits,
        misses: a.misses + b.misses,
        entries: a.entries + b.entries,
      }),
    );
    const resources = sum(
      answers.flatMap((a) => a.resources),
      (a, b) => ({
        name: a.name,
        used: a.used + b.used,
        limit: a.limit === null || b.limit === null ? null : a.limit + b.limit,
        waiting: a.waiting + b.waiting,
      }),
    ).map((r) => ({ ...r, utilization: r.limit ? r.used / r.limit : null }));
    return { caches, resources, unreachable };
  }
}
