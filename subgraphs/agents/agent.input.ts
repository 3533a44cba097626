import { Field, InputType } from 'type-graphql';
import { badInput, BigIntScalar } from '../../lib';

@InputType()
export class CreateAgentInput {
  @Field()
  name!: string;

  @Field()
  ticker!: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => BigIntScalar, { defaultValue: 0n })
  priceMinor: bigint = 0n;

  @Field({ defaultValue: 'USD' })
  asset: string = 'USD';
}

export function validateCreateAgent(input: CreateAgentInput): CreateAgentInput {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw badInput('name must be 1 to 100 characters', { field: 'name' });
  const ticker = input.ticker.trim().toUpperCase();
  if (!/^[A-Z0-9]{2,10}$/.test(ticker))
    throw badInput('ticker must be 2 to 10 letters or digits', { field: 'ticker' });
  if (input.priceMinor < 0n) throw badInput('priceMinor cannot be negative', { field: 'priceMinor' });
  if (!/^[A-Z0-9]{2,12}$/.test(input.asset))
    throw badInput('asset must be an upper-case code', { field: 'asset' });
  return { ...input, name, ticker, description: input.description?.trim() ?? '' };
}
