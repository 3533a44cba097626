import { Field, Float, ID, InputType } from 'type-graphql';
import { badInput } from '../../lib';
import { MemoryTier } from './memory.entity';

@InputType()
export class StoreMemoryInput {
  @Field(() => ID)
  agentId!: string;

  @Field()
  content!: string;

  @Field(() => MemoryTier, { defaultValue: MemoryTier.EPISODIC })
  tier: MemoryTier = MemoryTier.EPISODIC;

  @Field({ defaultValue: 'general' })
  category: string = 'general';

  @Field(() => Float, { defaultValue: 0.5 })
  importance: number = 0.5;
}

export const MAX_MEMORY_CHARS = 32_000;

export function validateStoreMemory(input: StoreMemoryInput): StoreMemoryInput {
  const content = input.content.trim();
  if (content.length < 1 || content.length > MAX_MEMORY_CHARS) {
    throw badInput(`content must be 1 to ${MAX_MEMORY_CHARS} characters`, { field: 'content' });
  }
  const category = input.category.trim();
  if (!/^[\w.-]{1,50}$/.test(category))
    throw badInput('category must be 1 to 50 word characters', { field: 'category' });
  if (!(input.importance >= 0 && input.importance <= 1)) {
    throw badInput('importance must be between 0 and 1', { field: 'importance' });
  }
  return { ...input, content, category };
}
