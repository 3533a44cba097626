import { Ctx, Field, Float, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { Authenticated, type SubgraphContext } from '../../../lib';

@ObjectType({ description: "What your chat sessions hold (002's workspace overview)." })
class SessionStorage {
  @Field(() => Int)
  sessions!: number;

  @Field(() => Int)
  messages!: number;

  @Field(() => Float, { description: "UTF-8 bytes of the messages' content." })
  contentBytes!: number;
}

/** One statement over the caller's sessions and their messages (every session's for admins). */
@Resolver()
export class SessionStorageResolver {
  @Authenticated()
  @Query(() => SessionStorage)
  async sessionStorage(@Ctx() ctx: SubgraphContext): Promise<SessionStorage> {
    const me = ctx.me();
    const mine =
      me.role === 'ADMIN' ? { sql: 'true', params: [] } : { sql: 's."owner_id" = ?', params: [me.accountId] };
    const [row] = await ctx.em.execute<{ sessions: number; messages: number; bytes: string }[]>(
      `select count(distinct s."id")::int as "sessions", count(m."id")::int as "messages",
              coalesce(sum(octet_length(m."content")), 0)::text as "bytes"
       from "sessions"."session" s left join "sessions"."message" m on m."session_id" = s."id"
       where ${mine.sql}`,
      mine.params,
    );
    return { sessions: row!.sessions, messages: row!.messages, contentBytes: Number(row!.bytes) };
  }
}
