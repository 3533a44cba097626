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
  Authenticated,
  Connection,
  deleteReturning,
  loadConfig,
  notFound,
  PageArgs,
  paginate,
  type SubgraphContext,
} from '../../../lib';
import { Device, DeviceState } from './device.entity';
import { challengeMessage, presentCode, startPairing, verifyDevice } from './device.pairing';

@ObjectType()
class DeviceConnection extends Connection(Device) {}

@InputType({
  description:
    'Without `code`: you (the owner) start a pairing and receive a code. With it: a device presents the code and its key.',
})
class PairDeviceInput {
  @Field(() => String, { nullable: true, description: 'The pairing code the owner received.' })
  code?: string | null;

  @Field(() => String, { nullable: true, description: "The device's Ed25519 public key, 64 hex digits." })
  publicKeyHex?: string | null;

  @Field(() => String, { nullable: true, description: 'What to call the device.' })
  name?: string | null;
}

@ObjectType({
  description: 'A step of pairing: the code the owner passes on, or the challenge the device signs.',
})
class DevicePairing {
  @Field(() => String, {
    nullable: true,
    description: 'Owner step: the single-use code, shown in this answer only.',
  })
  code!: string | null;

  @Field({ description: 'When the code (owner step) or the challenge (device step) stops being valid.' })
  expiresAt!: Date;

  @Field(() => Int)
  expiresIn!: number;

  @Field(() => Device, { nullable: true, description: 'Device step: the device, pending until it signs.' })
  device!: Device | null;

  @Field(() => String, { nullable: true, description: 'Device step: the nonce, 64 hex digits.' })
  challenge!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Device step: the exact UTF-8 text to sign with Ed25519 (`agentry-device-pairing:<id>:<challenge>`).',
  })
  signMessage!: string | null;
}

@ObjectType({ description: 'How many devices you paired, and how many of them proved their key.' })
class DeviceSummary {
  @Field(() => Int)
  pairedCount!: number;

  @Field(() => Int)
  trustedCount!: number;
}

const owner = (device: Device) => device.ownerId;

/** The owner's paired devices: each account sees and acts on its own only (others' are NOT_FOUND). */
@Resolver()
export class DeviceResolver {
  @Authenticated()
  @Query(() => DeviceConnection, { description: 'Your paired devices, newest first.' })
  devices(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<DeviceConnection> {
    return paginate(ctx.em, Device, ctx.ownedWhere('ownerId'), page);
  }

  @Authenticated()
  @Query(() => Device)
  device(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Device> {
    return ctx.getOwned(Device, id, owner);
  }

  @Authenticated()
  @Query(() => DeviceSummary)
  async deviceSummary(@Ctx() ctx: SubgraphContext): Promise<DeviceSummary> {
    const where = ctx.ownedWhere('ownerId');
    const [pairedCount, trustedCount] = await Promise.all([
      ctx.em.count(Device, where),
      ctx.em.count(Device, { ...where, state: DeviceState.VERIFIED }),
    ]);
    return { pairedCount, trustedCount };
  }

  @Mutation(() => DevicePairing, {
    description:
      'Pairing, step one (you, signed in, no `code`): a single-use code. Step two (the device, no credential ' +
      'needed): the code with its key answers the challenge it must sign (verifyDevice).',
  })
  async pairDevice(
    @Arg('input') input: PairDeviceInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DevicePairing> {
    const ttl = loadConfig().DEVICE_PAIRING_TTL_SECONDS;
    const empty = { code: null, device: null, challenge: null, signMessage: null, expiresIn: ttl };
    if (input.code == null) {
      const started = await startPairing(ctx.em, ctx.me().accountId, ttl);
      return { ...empty, code: started.code, expiresAt: started.expiresAt };
    }
    // One transaction: a code is spent only if its device is recorded.
    const claim = { code: input.code, publicKeyHex: input.publicKeyHex ?? '', name: input.name ?? '' };
    const device = await ctx.em.transactional((em) => presentCode(em, claim, ttl));
    return {
      ...empty,
      device,
      expiresAt: device.challengeExpiresAt!,
      challenge: device.challenge,
      signMessage: challengeMessage(device.id, device.challenge!),
    };
  }

  @Mutation(() => Device, {
    description:
      "Pairing, last step (the device; no credential needed, or the owner's): its Ed25519 signature of `signMessage`.",
  })
  async verifyDevice(
    @Arg('id', () => ID) id: string,
    @Arg('signatureHex') signatureHex: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Device> {
    // The signature is the proof; a signed-in caller must still be the owner (others see NOT_FOUND).
    const device =
      ctx.caller.kind === 'account' ? await ctx.findOwned(Device, id, owner) : await ctx.load(Device, id);
    if (!device) throw notFound('Device', id);
    return verifyDevice(ctx.em, device, signatureHex);
  }

  @Authenticated()
  @Mutation(() => Device, { description: 'Forget a paired device (pending or verified).' })
  async unpairDevice(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Device> {
    const device = await ctx.getOwned(Device, id, owner);
    const [removed] = await deleteReturning(ctx.em, Device, { id: device.id });
    if (!removed) throw notFound('Device', id);
    return removed;
  }
}
