import { Field, InputType, Int } from 'type-graphql';
import { badInput, SCOPES } from '../../lib';

@InputType()
export class RegisterInput {
  @Field()
  email!: string;

  @Field()
  password!: string;

  @Field({ nullable: true, description: 'Defaults to the part of the email before the @.' })
  displayName?: string;
}

@InputType()
export class LoginInput {
  @Field()
  email!: string;

  @Field()
  password!: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field()
  name!: string;

  @Field(() => [String], { description: `Any of: ${SCOPES.join(', ')}.` })
  scopes!: string[];

  @Field(() => Int, { nullable: true, description: 'Days until the key stops working; never when omitted.' })
  expiresInDays?: number;
}

/** A pragmatic address check: one @, no spaces, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export function validateRegister(input: RegisterInput) {
  const email = normaliseEmail(input.email);
  if (email.length > 254 || !EMAIL.test(email))
    throw badInput('email is not a valid address', { field: 'email' });
  if (input.password.length < 10 || input.password.length > 200) {
    throw badInput('password must be 10 to 200 characters', { field: 'password' });
  }
  const displayName = (input.displayName ?? email.split('@')[0]).trim();
  if (displayName.length < 1 || displayName.length > 100) {
    throw badInput('displayName must be 1 to 100 characters', { field: 'displayName' });
  }
  return { email, password: input.password, displayName };
}

export function validateCreateApiKey(input: CreateApiKeyInput) {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw badInput('name must be 1 to 100 characters', { field: 'name' });
  const scopes = [...new Set(input.scopes.map((scope) => scope.trim()))];
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length) {
    throw badInput(`scopes must be some of ${SCOPES.join(', ')}`, { field: 'scopes', unknown });
  }
  const days = input.expiresInDays;
  if (days !== undefined && days !== null && (days < 1 || days > 3650)) {
    throw badInput('expiresInDays must be 1 to 3650', { field: 'expiresInDays' });
  }
  return { name, scopes, expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null };
}
