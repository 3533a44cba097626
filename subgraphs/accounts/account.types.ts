import { Directive, Field, Int, ObjectType } from 'type-graphql';
import { Account, Role } from './account.entity';
import { ApiKey } from './api-key.entity';

@ObjectType({ description: 'A signed-in session: send the access token as `Authorization: Bearer …`.' })
export class AuthPayload {
  @Field()
  accessToken!: string;

  @Field({ description: 'Spend once with refreshToken(…) for a new pair; a second use revokes the sign-in.' })
  refreshToken!: string;

  @Field(() => Int, { description: 'Seconds until the access token expires.' })
  expiresIn!: number;

  @Field(() => Account)
  account!: Account;
}

@ObjectType({ description: 'A new API key. `key` is shown only here, never again.' })
export class CreatedApiKey {
  @Field()
  key!: string;

  @Field(() => ApiKey)
  apiKey!: ApiKey;
}

/** What the router learns about a credential; hidden from the public API. */
@ObjectType()
@Directive('@inaccessible')
export class CredentialIdentity {
  @Field()
  accountId!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => [String])
  scopes!: string[];

  @Field(() => String, { nullable: true })
  apiKeyId!: string | null;
}
