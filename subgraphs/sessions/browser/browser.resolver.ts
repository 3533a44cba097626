import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
} from 'type-graphql';
import { RequiresScopes, type SubgraphContext } from '../../../lib';
import { BROWSER_ACTIONS, browserAction, type BrowserActionName } from './browser.actions';
import { browserState, closeSession, openSession } from './browser.sessions';

/** The actions as GraphQL enum values: navigate → NAVIGATE, read_page → READ_PAGE. */
const BrowserActionKind = Object.fromEntries(BROWSER_ACTIONS.map((name) => [name.toUpperCase(), name]));
registerEnumType(BrowserActionKind, {
  name: 'BrowserActionKind',
  description: "What to do in the caller's browser (Ironclad's browser actions).",
});

enum BrowserStartOutcome {
  STARTED = 'STARTED',
  ALREADY_RUNNING = 'ALREADY_RUNNING',
}
registerEnumType(BrowserStartOutcome, { name: 'BrowserStartOutcome' });

@ObjectType({ description: "The caller's headless browser session on the server." })
class BrowserStatus {
  @Field({ description: 'Whether the caller has a browser session.' })
  running!: boolean;

  @Field({ description: 'Whether a browser is installed on the server; without one, starting answers 503.' })
  enabled!: boolean;

  @Field({ description: 'Always true: the browser has no window.' })
  headless!: boolean;

  @Field(() => String, { nullable: true, description: 'The address of the page the session shows.' })
  url!: string | null;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Int, { description: 'A session unused this long is closed.' })
  idleTimeoutSeconds!: number;
}

@ObjectType()
class BrowserStart {
  @Field(() => BrowserStartOutcome)
  status!: BrowserStartOutcome;
}

@InputType({
  description: 'One browser action and what it needs (Ironclad: `{"action": "Navigate", "url": …}`).',
})
class BrowserActionInput {
  @Field(() => BrowserActionKind)
  action!: BrowserActionName;

  @Field(() => String, { nullable: true, description: 'NAVIGATE: an http(s) URL on a public address.' })
  url?: string | null;

  @Field(() => String, { nullable: true, description: 'CLICK, TYPE: a CSS selector; its first match.' })
  selector?: string | null;

  @Field(() => String, { nullable: true, description: 'TYPE: inserted at the selected element.' })
  text?: string | null;

  @Field(() => String, { nullable: true, description: 'EVALUATE: a JavaScript expression run in the page.' })
  expression?: string | null;
}

@ObjectType({
  description: "An action's outcome; a refused or failed action has success false and an error.",
})
class BrowserActionResult {
  @Field({ description: 'The action, as Ironclad names it (navigate, read_page, …).' })
  action!: string;

  @Field()
  success!: boolean;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "The action's answer (a screenshot's PNG in base64, …).",
  })
  data!: unknown;

  @Field(() => String, { nullable: true })
  error!: string | null;
}

/** Each account drives only its own session: every field acts on the caller's. */
@Resolver()
export class BrowserResolver {
  @RequiresScopes('orders')
  @Query(() => BrowserStatus, { description: "The caller's headless browser session." })
  browserStatus(@Ctx() ctx: SubgraphContext): BrowserStatus {
    return { ...browserState(ctx.me().accountId), headless: true };
  }

  @RequiresScopes('orders')
  @Mutation(() => BrowserStart, {
    description:
      'Starts a headless browser session for the caller (503 when no browser is installed or all are in use).',
  })
  async startBrowser(@Ctx() ctx: SubgraphContext): Promise<BrowserStart> {
    const started = await openSession(ctx.me().accountId);
    return { status: started ? BrowserStartOutcome.STARTED : BrowserStartOutcome.ALREADY_RUNNING };
  }

  @RequiresScopes('orders')
  @Mutation(() => Boolean, {
    description: "Closes the caller's browser session; false when none was running.",
  })
  stopBrowser(@Ctx() ctx: SubgraphContext): Promise<boolean> {
    return closeSession(ctx.me().accountId);
  }

  @RequiresScopes('orders')
  @Mutation(() => BrowserActionResult, { description: "Runs one action in the caller's browser session." })
  browserAction(
    @Arg('input') input: BrowserActionInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<BrowserActionResult> {
    return browserAction(ctx.me().accountId, input);
  }
}
