/**
 * The platform settings store (DESIGN: accounts owns platform settings). Every signed-in caller
 * reads the settings, secrets redacted; only admins change them. A change is committed, then
 * announced on SETTINGS_TOPIC, and every replica of the subgraphs that use it reloads the values.
 */
import {
  Arg,
  Ctx,
  Directive,
  Field,
  Float,
  ID,
  InputType,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
} from 'type-graphql';
import {
  AppError,
  Authenticated,
  badInput,
  configValue,
  isSecretSetting,
  loadConfig,
  parseSetting,
  PLATFORM_SETTINGS,
  REDACTED,
  SETTINGS_TOPIC,
  type SubgraphContext,
} from '../../lib';

export enum SettingSource {
  /** Changed through the store. */
  STORED = 'STORED',
  /** A live setting never changed: the environment's value. */
  DEFAULT = 'DEFAULT',
  /** Read from the environment at start; changed there, with a restart. */
  ENVIRONMENT = 'ENVIRONMENT',
}
registerEnumType(SettingSource, { name: 'SettingSource' });

@ObjectType({ description: 'One platform setting. Values are JSON text; secrets show as "***".' })
class PlatformSetting {
  @Field({ description: 'Dot notation, e.g. model.default.' })
  key!: string;

  @Field(() => String, { description: 'The value in effect, as JSON text (null when unset).' })
  value!: string;

  @Field(() => String, { description: 'The environment value it falls back to, as JSON text.' })
  defaultValue!: string;

  @Field({ description: 'string, number, integer or boolean.' })
  type!: string;

  @Field(() => Float, { nullable: true })
  minimum!: number | null;

  @Field(() => Float, { nullable: true })
  maximum!: number | null;

  @Field()
  description!: string;

  @Field(() => SettingSource)
  source!: SettingSource;

  @Field({ description: 'Applies on every replica at once; otherwise it needs a restart.' })
  live!: boolean;

  @Field()
  secret!: boolean;

  @Field({ description: 'The environment variable behind it.' })
  environmentVariable!: string;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'The admin who changed it last.' })
  updatedBy!: string | null;
}

@InputType()
class SettingChange {
  @Field({ description: 'Dot notation, e.g. model.temperature.' })
  key!: string;

  @Field({ description: 'The new value as JSON text (e.g. 0.5, "gpt-4o"); null resets it to its default.' })
  value!: string;
}

@ObjectType({ description: 'A live setting as the subgraphs that apply it read it (services only).' })
class SettingValue {
  @Field()
  key!: string;

  @Field({ description: 'JSON text.' })
  value!: string;
}

interface StoredRow {
  key: string;
  value: unknown;
  updated_by: string;
  updated_at: Date;
}

const MAX_CHANGES = 50;

async function storedRows(ctx: SubgraphContext): Promise<Map<string, StoredRow>> {
  const rows = await ctx.em.execute<StoredRow[]>(
    `select "key", "value", "updated_by", "updated_at" from "accounts"."setting"`,
  );
  return new Map(rows.map((row) => [row.key, row]));
}

const json = (key: string, value: unknown) =>
  JSON.stringify(isSecretSetting(key) && value !== null && value !== undefined ? REDACTED : (value ?? null));

/** Every known setting as a caller reads it, in the table's order. */
async function allSettings(ctx: SubgraphContext): Promise<PlatformSetting[]> {
  const config = loadConfig();
  const stored = await storedRows(ctx);
  return [...PLATFORM_SETTINGS].map(([key, definition]) => {
    const row = stored.get(key);
    const fallback = configValue(config, key);
    return {
      key,
      value: json(key, row ? row.value : fallback),
      defaultValue: json(key, fallback),
      type: definition.type,
      minimum: definition.minimum ?? null,
      maximum: definition.maximum ?? null,
      description: definition.description,
      source: !definition.live
        ? SettingSource.ENVIRONMENT
        : row
          ? SettingSource.STORED
          : SettingSource.DEFAULT,
      live: definition.live,
      secret: isSecretSetting(key),
      environmentVariable: String(definition.variable),
      updatedAt: row ? new Date(row.updated_at) : null,
      updatedBy: row?.updated_by ?? null,
    };
  });
}

/** The changes as values checked against the table; the first bad one refuses them all. */
function validateChanges(changes: SettingChange[]) {
  if (!changes.length || changes.length > MAX_CHANGES)
    throw badInput(`give 1 to ${MAX_CHANGES} settings`, { field: 'changes' });
  const seen = new Set<string>();
  return changes.map(({ key, value }) => {
    if (seen.has(key)) throw badInput(`${key} is given twice`, { field: key });
    seen.add(key);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw badInput(`${key}: the value must be JSON text`, { field: key });
    }
    if (parsed === null && PLATFORM_SETTINGS.get(key)?.live) return { key, value: null };
    const checked = parseSetting(key, parsed);
    if ('error' in checked) throw badInput(checked.error, { field: key });
    return { key, value: checked.value };
  });
}

@Resolver()
export class SettingResolver {
  @Authenticated()
  @Query(() => [PlatformSetting], { description: 'Every platform setting, secrets redacted.' })
  platformSettings(@Ctx() ctx: SubgraphContext): Promise<PlatformSetting[]> {
    return allSettings(ctx);
  }

  @Authenticated()
  @Mutation(() => [PlatformSetting], {
    description:
      'Changes live settings at once on every replica (null resets one to its default); all or ' +
      'none. Environment settings are refused: they need a restart. Admins only.',
  })
  async updatePlatformSettings(
    @Arg('changes', () => [SettingChange]) changes: SettingChange[],
    @Ctx() ctx: SubgraphContext,
  ): Promise<PlatformSetting[]> {
    if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', 'only an admin may change settings');
    const values = validateChanges(changes);
    await ctx.em.transactional(async (tx) => {
      for (const { key, value } of values) {
        if (value === null) await tx.execute(`delete from "accounts"."setting" where "key" = ?`, [key]);
        else
          await tx.execute(
            `insert into "accounts"."setting" ("key", "value", "updated_by") values (?, ?::jsonb, ?)
             on conflict ("key") do update set "value" = excluded."value",
               "updated_by" = excluded."updated_by", "updated_at" = now()`,
            [key, JSON.stringify(value), ctx.me().accountId],
          );
      }
    });
    // After commit, so a replica that reloads on the announcement reads the new values.
    await ctx.pubsub.publish(SETTINGS_TOPIC, { keys: values.map((v) => v.key) });
    const changed = new Set(values.map((v) => v.key));
    return (await allSettings(ctx)).filter((s) => changed.has(s.key));
  }

  @Directive('@inaccessible')
  @Query(() => [SettingValue], { description: 'The stored live values, unredacted, for the subgraphs.' })
  async platformSettingValues(@Ctx() ctx: SubgraphContext): Promise<SettingValue[]> {
    if (ctx.caller.kind !== 'service' && ctx.caller.kind !== 'router')
      throw new AppError('FORBIDDEN', 'only the platform’s services ask this');
    const stored = await storedRows(ctx);
    return [...stored.values()].map((row) => ({ key: row.key, value: JSON.stringify(row.value) }));
  }
}
