import {
  Arg,
  Args,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import {
  badInput,
  Connection,
  newId,
  PageArgs,
  paginate,
  RequiresScopes,
  type SubgraphContext,
} from '../../../lib';
import { callAgent } from './agent.call';
import { Order } from './order.entity';
import { agentByIdOrTicker, placeOrder, refusePaused, type AgentFile } from './order.service';

@ObjectType()
class OrderConnection extends Connection(Order) {}

const MAX_FILES = 20;

@InputType({ description: 'A file sent with an order, forwarded to the agent.' })
class OrderFileInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  contentType?: string | null;

  @Field({ description: 'The file, base64.' })
  dataBase64!: string;
}

@InputType()
class CreateOrderInput {
  @Field(() => ID, { description: "The agent's id (or ticker)." })
  agentId!: string;

  @Field({ description: 'Sent to the agent as {"prompt": …}.' })
  prompt!: string;

  @Field({
    defaultValue: 'credits',
    description: 'Metadata only ("credits", "stripe", "usdc"): orders settle from credits.',
  })
  paymentMethod!: string;

  @Field(() => [OrderFileInput], {
    nullable: true,
    description: `Files for the agent (at most ${MAX_FILES}): sent with the prompt as {"files": [{name, content_type, data_base64}]}.`,
  })
  files?: OrderFileInput[] | null;
}

@ObjectType({ description: "An agent endpoint's answer, relayed as received." })
class AgentProxyAnswer {
  @Field(() => Int, { description: 'The HTTP status the agent answered.' })
  status!: number;

  @Field(() => String, { nullable: true })
  contentType!: string | null;

  @Field({ description: 'The answer body, base64.' })
  bodyBase64!: string;

  @Field(() => Int)
  latencyMs!: number;

  @Field({ description: 'Names this call (sent to the agent as x-autx-request-id).' })
  requestId!: string;

  @Field({ description: "The agent's ticker." })
  ticker!: string;
}

const MAX_PROMPT = 100_000;
const MAX_PAYMENT_METHOD = 40;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CONTENT_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;[\x20-\x7e]*)?$/;

/** An order's files as the agent receives them; each checked (base64, a media type, a name). */
function filesOf(input: CreateOrderInput): AgentFile[] {
  const files = input.files ?? [];
  if (files.length > MAX_FILES) throw badInput(`at most ${MAX_FILES} files`, { field: 'files' });
  return files.map((file) => {
    if (!file.name || file.name.length > 255)
      throw badInput('a file needs a name of at most 255 characters', { field: 'files' });
    if (!BASE64.test(file.dataBase64) || file.dataBase64.length % 4 !== 0)
      throw badInput(`file ${file.name} is not base64`, { field: 'files' });
    const type = file.contentType ?? 'application/octet-stream';
    if (type.length > 200 || !CONTENT_TYPE.test(type))
      throw badInput(`file ${file.name} has no valid content type`, { field: 'files' });
    return { name: file.name, content_type: type, data_base64: file.dataBase64 };
  });
}

@Resolver(() => Order)
export class OrderResolver {
  @RequiresScopes('orders')
  @Mutation(() => Order, {
    description:
      "Order one answer from an agent, paid from your USD credits (PAYMENT_REQUIRED 'Insufficient credits' " +
      'when short): COMPLETED pays its owner less the platform fee, FAILED refunds you.',
  })
  createOrder(@Arg('input') input: CreateOrderInput, @Ctx() ctx: SubgraphContext): Promise<Order> {
    const prompt = input.prompt;
    if (!prompt.trim()) throw badInput('prompt must not be empty', { field: 'prompt' });
    if (prompt.length > MAX_PROMPT)
      throw badInput(`prompt is longer than ${MAX_PROMPT}`, { field: 'prompt' });
    const paymentMethod = input.paymentMethod.trim().toLowerCase();
    if (!/^[a-z0-9_-]{1,40}$/.test(paymentMethod))
      throw badInput(`payment_method must be a word of at most ${MAX_PAYMENT_METHOD} letters`, {
        field: 'paymentMethod',
      });
    return placeOrder(
      { em: ctx.em, peers: ctx.peers, log: ctx.log, requestId: ctx.requestId },
      { buyerId: ctx.me().accountId, agentKey: input.agentId, prompt, paymentMethod, files: filesOf(input) },
    );
  }

  @RequiresScopes('orders')
  @Query(() => OrderConnection, { description: 'Your orders, newest first.' })
  orders(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext) {
    return paginate(ctx.em, Order, { buyerId: ctx.me().accountId }, page);
  }

  @RequiresScopes('orders')
  @Query(() => Order, { description: 'One of your orders.' })
  order(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Order> {
    return ctx.getOwned(Order, id, (order) => order.buyerId);
  }

  @RequiresScopes('proxy')
  @Mutation(() => AgentProxyAnswer, {
    description:
      'Free call to an agent (by id or ticker): the body is POSTed to its endpoint unchanged and the answer relayed. ' +
      'BAD_GATEWAY when it cannot be reached (or its endpoint is not public), GATEWAY_TIMEOUT when slow.',
  })
  async proxyAgent(
    @Arg('agent') key: string,
    @Arg('bodyBase64') bodyBase64: string,
    @Arg('contentType', () => String, { nullable: true }) contentType: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<AgentProxyAnswer> {
    if (!BASE64.test(bodyBase64) || bodyBase64.length % 4 !== 0)
      throw badInput('bodyBase64 is not base64', { argument: 'bodyBase64' });
    if (contentType != null && (contentType.length > 200 || !CONTENT_TYPE.test(contentType)))
      throw badInput('contentType is not a media type', { argument: 'contentType' });
    ctx.me();
    const agent = await agentByIdOrTicker(ctx.em, key);
    refusePaused(agent);
    const requestId = newId('req');
    const answer = await callAgent(agent, Buffer.from(bodyBase64, 'base64'), {
      'content-type': contentType ?? 'application/json',
      accept: '*/*',
      'x-autx-request-id': requestId,
    });
    return {
      status: answer.status,
      contentType: answer.contentType,
      bodyBase64: answer.body.toString('base64'),
      latencyMs: answer.latencyMs,
      requestId,
      ticker: agent.ticker,
    };
  }
}
