import { Field, InputType } from 'type-graphql';
import { badInput } from '../../lib';
import { validateWebhookUrl } from './webhook.address';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from './webhook.delivery';

const KNOWN_EVENTS = new Set([...Object.values(WEBHOOK_EVENT_TYPES), ALL_EVENTS]);
const MAX_DESCRIPTION = 500;

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'http(s) URL; hosts resolving to private or loopback addresses are refused.' })
  url!: string;

  @Field(() => [String], {
    description: `Event types to receive: ${[...KNOWN_EVENTS].join(', ')} (\`*\` is every one).`,
  })
  events!: string[];

  @Field(() => String, { nullable: true })
  description?: string | null;
}

export async function validateCreateWebhookEndpoint(input: CreateWebhookEndpointInput) {
  const events = [...new Set(input.events.map((event) => event.trim()))];
  if (!events.length) throw badInput('events must name at least one event type', { argument: 'events' });
  const unknown = events.filter((event) => !KNOWN_EVENTS.has(event));
  if (unknown.length)
    throw badInput(`unknown event types: ${unknown.join(', ')}`, { argument: 'events', unknown });
  const description = input.description?.trim() || null;
  if (description && description.length > MAX_DESCRIPTION)
    throw badInput(`description is longer than ${MAX_DESCRIPTION} characters`, { argument: 'description' });
  return { url: await validateWebhookUrl(input.url), events, description };
}
