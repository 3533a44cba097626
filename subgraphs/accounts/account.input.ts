import { Field, InputType } from 'type-graphql';
import { badInput } from '../../lib';

@InputType()
export class CreateAccountInput {
  @Field()
  email!: string;

  @Field()
  displayName!: string;
}

/** A pragmatic address check: one @, no spaces, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateCreateAccount(input: CreateAccountInput): CreateAccountInput {
  const email = input.email.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email))
    throw badInput('email is not a valid address', { field: 'email' });
  const displayName = input.displayName.trim();
  if (displayName.length < 1 || displayName.length > 100) {
    throw badInput('displayName must be 1 to 100 characters', { field: 'displayName' });
  }
  return { email, displayName };
}
