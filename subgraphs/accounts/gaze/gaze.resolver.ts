import {
  Arg,
  Args,
  Ctx,
  Directive,
  Field,
  Float,
  ID,
  InputType,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { AppError, Connection, PageArgs, paginate, type SubgraphContext } from '../../../lib';
import { GazeAttestation, GazeSample } from './gaze.entity';
import { attestationOf, storeGazeSample } from './gaze.service';

@ObjectType()
class GazeSampleConnection extends Connection(GazeSample) {}

@InputType({ description: 'A gaze sample; every value from 0 to 1.' })
class GazeSampleInput {
  @Field(() => Float, {
    description: 'Horizontal gaze position, normalised to the screen (0 left, 1 right).',
  })
  gazeX!: number;

  @Field(() => Float, { description: 'Vertical gaze position, normalised to the screen (0 top, 1 bottom).' })
  gazeY!: number;

  @Field(() => Float, { description: 'Cognitive (COG) tensor value.' })
  cogValue!: number;

  @Field(() => Float, { description: 'Emotional (EMO) tensor value.' })
  emoValue!: number;

  @Field(() => Float, { description: 'Environmental (ENV) tensor value.' })
  envValue!: number;

  @Field(() => Float, { description: "The tracker's confidence in the sample." })
  confidence!: number;
}

@ObjectType()
class StoredGazeSample {
  @Field(() => GazeSample)
  sample!: GazeSample;

  @Field(() => GazeAttestation, { description: 'Your attestation after this sample.' })
  attestation!: GazeAttestation;
}

/** 000's gaze attestation, owner-isolated: each account sends, lists and is attested by its own samples. */
@Resolver()
export class GazeResolver {
  @Mutation(() => StoredGazeSample, {
    description: 'Send a gaze sample; 222 cs of gaze in one session verify your attestation (CSTB).',
  })
  storeGazeSample(
    @Arg('input') input: GazeSampleInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<StoredGazeSample> {
    return storeGazeSample(ctx.em, ctx.me().accountId, { ...input });
  }

  @Query(() => GazeSampleConnection, { description: 'Your gaze samples, newest first.' })
  gazeHistory(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<GazeSampleConnection> {
    return paginate(ctx.em, GazeSample, { accountId: ctx.me().accountId }, page);
  }

  @Query(() => GazeAttestation, { description: 'Where your gaze attestation stands (CSTB progress).' })
  attestationStatus(@Ctx() ctx: SubgraphContext): Promise<GazeAttestation> {
    return attestationOf(ctx.em, ctx.me().accountId);
  }

  @Directive('@inaccessible')
  @Query(() => GazeAttestation, { description: "Services: an account's attestation (a gaze-gated release)." })
  gazeAttestationOf(
    @Arg('accountId', () => ID) accountId: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<GazeAttestation> {
    if (ctx.caller.kind !== 'service') throw new AppError('FORBIDDEN', 'only platform services ask this');
    return attestationOf(ctx.em, accountId);
  }
}
