import { Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { BigIntScalar, RequiresScopes, type SubgraphContext } from '../../lib';
import { billingSettings, holdBound } from './chat.billing';
import { chatSettings, gatewayProbe } from './chat.providers';

@ObjectType({ description: 'The price of one model, in micro-USD (1 USD = 1,000,000).' })
class ModelPrice {
  @Field()
  model!: string;

  @Field(() => BigIntScalar, { description: 'Per thousand tokens, prompt and completion alike.' })
  perThousandTokensMicroUsd!: bigint;

  @Field(() => BigIntScalar, { description: 'Flat, per answer.' })
  perCallMicroUsd!: bigint;
}

@ObjectType({ description: 'How turns are priced and paid (README "Billing").' })
class MeteringPricing {
  @Field({ description: 'True when turns are paid from USD credits; false: metered, never charged.' })
  billing!: boolean;

  @Field({ description: 'The credits asset; amounts are its minor units (micro-USD).' })
  asset!: string;

  @Field(() => ModelPrice, { description: "The default model's price, which unpriced models pay." })
  defaults!: ModelPrice;

  @Field(() => [ModelPrice], {
    description: 'The default model, priced models and those the upstream lists.',
  })
  models!: ModelPrice[];

  @Field(() => Int, { description: 'The completion bound of a turn that names no maxTokens.' })
  maxCompletionTokens!: number;

  @Field(() => BigIntScalar, {
    description:
      'What a message of the default model holds at the least (a one-character prompt, the default ' +
      'completion bound); longer prompts hold more. 0 when billing is off.',
  })
  messageHoldMicroUsd!: bigint;
}

@ObjectType({ description: 'Your metered turns and /v1 relay calls and what they cost, all time.' })
class MeteredUsageTotals {
  @Field(() => Int, { description: 'Answers metered (complete or not).' })
  calls!: number;

  @Field(() => BigIntScalar)
  promptTokens!: bigint;

  @Field(() => BigIntScalar)
  completionTokens!: bigint;

  @Field(() => BigIntScalar, { description: 'Their metered price.' })
  costMicroUsd!: bigint;

  @Field(() => BigIntScalar, { description: 'What was charged from your credits for them.' })
  chargedMicroUsd!: bigint;

  @Field(() => BigIntScalar, { description: 'Held now for answers still running or unsettled.' })
  heldMicroUsd!: bigint;
}

const priceOfModel = (model: string): ModelPrice => ({ model, ...chatSettings().pricesOf(model) });

@Resolver()
export class MeteringResolver {
  @Query(() => MeteringPricing, { description: 'Prices of answers and whether they are charged.' })
  async meteringPricing(): Promise<MeteringPricing> {
    const chat = chatSettings();
    const billing = billingSettings();
    const probe = await gatewayProbe();
    const models = [...new Set([chat.defaultModel, ...chat.pricedModels, ...probe.models])];
    const defaults = priceOfModel(chat.defaultModel);
    return {
      billing: billing.enabled,
      asset: 'USD',
      defaults,
      models: models.map(priceOfModel),
      maxCompletionTokens: chat.defaultMaxTokens,
      messageHoldMicroUsd: billing.enabled
        ? holdBound(defaults, [{ content: '-' }], chat.defaultMaxTokens)
        : 0n,
    };
  }

  @RequiresScopes('orders')
  @Query(() => MeteredUsageTotals, { description: 'Totals of your metered answers.' })
  async meteredUsageTotals(@Ctx() ctx: SubgraphContext): Promise<MeteredUsageTotals> {
    // Chat turns and relay calls (relay_call), which are recorded once answered, never held after.
    const [row] = await ctx.em.execute<Record<string, string>[]>(
      `with "metered" as (
         select count(*) filter (where u."id" is not null) as "calls",
                coalesce(sum(u."prompt_tokens"), 0) as "prompt",
                coalesce(sum(u."completion_tokens"), 0) as "completion",
                coalesce(sum(u."price_micro_usd"), 0) as "cost",
                coalesce(sum(t."charged_micro_usd") filter (where t."settlement" in ('POSTED', 'HELD')), 0) as "charged",
                coalesce(sum(t."held_micro_usd") filter (where t."settlement" = 'HELD'), 0) as "held"
           from "sessions"."turn" t left join "sessions"."usage_record" u on u."turn_id" = t."id"
          where t."owner_id" = ?
         union all
         select count(*), coalesce(sum("prompt_tokens"), 0), coalesce(sum("completion_tokens"), 0),
                coalesce(sum("price_micro_usd"), 0), coalesce(sum("charged_micro_usd"), 0), 0
           from "sessions"."relay_call" where "owner_id" = ?
       )
       select sum("calls") as "calls", sum("prompt") as "prompt", sum("completion") as "completion",
              sum("cost") as "cost", sum("charged") as "charged", sum("held") as "held"
         from "metered"`,
      [ctx.me().accountId, ctx.me().accountId],
    );
    return {
      calls: Number(row.calls),
      promptTokens: BigInt(row.prompt),
      completionTokens: BigInt(row.completion),
      costMicroUsd: BigInt(row.cost),
      chargedMicroUsd: BigInt(row.charged),
      heldMicroUsd: BigInt(row.held),
    };
  }
}
