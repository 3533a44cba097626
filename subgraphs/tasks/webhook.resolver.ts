import { randomBytes } from 'node:crypto';
import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  conflict,
  Connection,
  deleteReturning,
  notFound,
  PageArgs,
  paginate,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import {
  WebhookDelivery,
  WebhookDeliveryState,
  WebhookEndpoint,
  WebhookEndpointStatus,
} from './webhook.entity';
import { wakeWebhookWorker } from './webhook.delivery';
import { CreateWebhookEndpointInput, validateCreateWebhookEndpoint } from './webhook.input';

@ObjectType()
class WebhookEndpointConnection extends Connection(WebhookEndpoint) {}

@ObjectType()
class WebhookDeliveryConnection extends Connection(WebhookDelivery) {}

@ObjectType()
class CreatedWebhookEndpoint {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field({ description: 'The `whsec_…` signing secret; shown this once, never again.' })
  secret!: string;
}

const ownerOf = (row: { ownerId: string }) => row.ownerId;

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @RequiresScopes('tasks')
  @Mutation(() => CreatedWebhookEndpoint, { description: 'Register a URL for your task events.' })
  async createWebhookEndpoint(
    @Arg('input') input: CreateWebhookEndpointInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<CreatedWebhookEndpoint> {
    const ownerId = ctx.me().accountId;
    const values = await validateCreateWebhookEndpoint(input);
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const endpoint = ctx.em.create(WebhookEndpoint, { ...values, ownerId, secret });
    await ctx.em.flush();
    return { endpoint, secret };
  }

  @RequiresScopes('tasks')
  @Query(() => WebhookEndpointConnection, { description: 'Your webhook endpoints, newest first.' })
  webhookEndpoints(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<WebhookEndpointConnection> {
    return paginate(ctx.em, WebhookEndpoint, ctx.ownedWhere('ownerId'), page);
  }

  @RequiresScopes('tasks')
  @Query(() => WebhookEndpoint, { description: 'One of your webhook endpoints.' })
  webhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<WebhookEndpoint> {
    return ctx.getOwned(WebhookEndpoint, id, ownerOf);
  }

  @RequiresScopes('tasks')
  @Mutation(() => ID, { description: 'Remove an endpoint and its delivery log; answers its id.' })
  async deleteWebhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<string> {
    await ctx.getOwned(WebhookEndpoint, id, ownerOf);
    // Of concurrent deletes one deletes it (its deliveries go with it, by cascade); the others
    // find it gone, as any later delete does.
    const [deleted] = await deleteReturning(ctx.em, WebhookEndpoint, { id });
    if (!deleted) throw notFound('WebhookEndpoint', id);
    return id;
  }

  @RequiresScopes('tasks')
  @Query(() => WebhookDeliveryConnection, {
    description: 'The delivery log of your endpoints (or of one), newest first.',
  })
  async webhookDeliveries(
    @Args() page: PageArgs,
    @Arg('endpointId', () => ID, { nullable: true }) endpointId: string | undefined,
    @Arg('state', () => WebhookDeliveryState, { nullable: true }) state: WebhookDeliveryState | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<WebhookDeliveryConnection> {
    if (endpointId) await ctx.getOwned(WebhookEndpoint, endpointId, ownerOf);
    const where = [ctx.ownedWhere('ownerId'), endpointId ? { endpointId } : {}, state ? { state } : {}];
    return paginate(ctx.em, WebhookDelivery, { $and: where }, page);
  }

  @RequiresScopes('tasks')
  @Query(() => WebhookDeliveryConnection, {
    description: 'Deliveries that failed every attempt (the dead-letter queue), newest first.',
  })
  deadLetters(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<WebhookDeliveryConnection> {
    const where = { $and: [ctx.ownedWhere('ownerId'), { state: WebhookDeliveryState.FAILED }] };
    return paginate(ctx.em, WebhookDelivery, where, page);
  }

  @RequiresScopes('tasks')
  @Query(() => WebhookDelivery, { description: 'One delivery of one of your endpoints.' })
  webhookDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<WebhookDelivery> {
    return ctx.getOwned(WebhookDelivery, id, ownerOf);
  }

  @RequiresScopes('tasks')
  @Mutation(() => WebhookDelivery, {
    description: 'Queue a dead letter again with a fresh retry schedule; it keeps its webhook-id.',
  })
  async replayDelivery(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<WebhookDelivery> {
    const delivery = await ctx.getOwned(WebhookDelivery, id, ownerOf);
    const endpoint = await ctx.get(WebhookEndpoint, delivery.endpointId);
    if (endpoint.status !== WebhookEndpointStatus.ACTIVE)
      throw conflict(
        `endpoint ${endpoint.id} is ${endpoint.status}: ${endpoint.disabledReason ?? 'disabled'}`,
        {
          status: endpoint.status,
        },
      );
    const now = new Date();
    // Conditional, so of two concurrent replays one queues it and the other is told it already is.
    const replayed = await ctx.em.nativeUpdate(
      WebhookDelivery,
      { id, state: WebhookDeliveryState.FAILED },
      { state: WebhookDeliveryState.PENDING, attempts: 0, nextAttemptAt: now, updatedAt: now },
    );
    await ctx.em.refresh(delivery);
    if (!replayed)
      throw conflict(`delivery ${id} is ${delivery.state}: only FAILED deliveries can be replayed`, {
        state: delivery.state,
      });
    wakeWebhookWorker(ctx.em);
    return delivery;
  }
}

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @FieldResolver(() => WebhookEndpoint, { nullable: true, description: 'Where it goes.' })
  endpoint(@Root() delivery: WebhookDelivery, @Ctx() ctx: SubgraphContext): Promise<WebhookEndpoint | null> {
    return ctx.load(WebhookEndpoint, delivery.endpointId);
  }
}
