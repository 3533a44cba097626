/**
 * Skills (001/002): the folders on disk are the source, `agents.skill` their index with each file's
 * hash as last loaded. Reads need a signed-in caller; every change, and the audit, need an admin.
 */
import type { EntityManager } from '../../../lib';
import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import {
  AppError,
  Authenticated,
  badInput,
  escapeLike,
  notFound,
  RequiresScopes,
  type SubgraphContext,
} from '../../../lib';
import {
  catalogDir,
  containedFolder,
  copySkill,
  folderOf,
  hashFolder,
  pathExists,
  parseSkillId,
  readSkill,
  removeFolder,
  scanSkills,
  SkillRefused,
  skillsDir,
  SLUG,
  type SkillOnDisk,
} from './skill.files';

@ObjectType({ description: 'One file of a skill and its SHA-256 when the skill was last loaded.' })
class SkillFile {
  @Field()
  path!: string;

  @Field()
  sha256!: string;
}

/** SKILL.md's front matter, shared by indexed and catalog skills. */
@ObjectType()
abstract class SkillHeader {
  @Field(() => ID, { description: 'The folder name, or `<agentId>.<name>` for an agent’s skill.' })
  id!: string;

  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field()
  category!: string;

  @Field()
  version!: string;
}

@ObjectType({ description: 'A skill: a folder with a SKILL.md (instructions) and the files it uses.' })
export class Skill extends SkillHeader {
  @Field()
  slug!: string;

  @Field(() => String, { nullable: true, description: 'The agent it belongs to; null: the platform’s.' })
  agentId!: string | null;

  @Field({ description: 'SKILL.md without its front matter.' })
  content!: string;

  @Field()
  enabled!: boolean;

  @Field({ description: '`local` (found in SKILLS_DIR) or `catalog` (installed from the catalog).' })
  origin!: string;

  @Field(() => [SkillFile])
  files!: SkillFile[];

  @Field(() => Int)
  fileCount!: number;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType()
class SkillRefusal {
  @Field()
  id!: string;

  @Field()
  reason!: string;
}

@ObjectType({ description: 'What a reload found: the skills indexed, those dropped and those refused.' })
class SkillReload {
  @Field(() => [String])
  loaded!: string[];

  @Field(() => [String], { description: 'Indexed before, gone (or refused) now.' })
  removed!: string[];

  @Field(() => [SkillRefusal])
  refused!: SkillRefusal[];
}

@ObjectType({ description: 'A skill of the catalog shipped with the platform, installable.' })
class CatalogSkill extends SkillHeader {
  @Field({ description: 'Copied into SKILLS_DIR and indexed.' })
  installed!: boolean;

  @Field({ description: 'Installed and enabled.' })
  enabled!: boolean;
}

@ObjectType({ description: "One skill's files compared with the hashes recorded when it was loaded." })
class SkillAudit {
  @Field(() => ID)
  id!: string;

  @Field({
    description: '`ok`, `modified` (any change below) or `refused` (the folder can no longer be read).',
  })
  status!: string;

  @Field(() => [String], { description: 'Files whose content differs from the recorded hash.' })
  changed!: string[];

  @Field(() => [String], { description: 'Recorded files no longer there.' })
  missing!: string[];

  @Field(() => [String], { description: 'Files there that were not recorded.' })
  unexpected!: string[];

  @Field(() => String, { nullable: true })
  reason!: string | null;
}

interface SkillRow {
  id: string;
  slug: string;
  agent_id: string | null;
  name: string;
  description: string;
  category: string;
  version: string;
  content: string;
  enabled: boolean;
  origin: string;
  files: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

const toSkill = (row: SkillRow): Skill => {
  const files = Object.entries(row.files).map(([path, sha256]) => ({ path, sha256 }));
  return {
    id: row.id,
    slug: row.slug,
    agentId: row.agent_id,
    name: row.name,
    description: row.description,
    category: row.category,
    version: row.version,
    content: row.content,
    enabled: row.enabled,
    origin: row.origin,
    files,
    fileCount: files.length,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
};

const TABLE = '"agents"."skill"';

function requireAdmin(ctx: SubgraphContext, action: string): void {
  if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', `only an admin may ${action}`);
}

/** A caller's id, checked before it reaches a path. */
function checkedId(id: string): string {
  try {
    parseSkillId(id);
    return id;
  } catch (error) {
    throw badInput((error as Error).message, { field: 'id' });
  }
}

async function rowOf(em: EntityManager, id: string): Promise<SkillRow> {
  const [row] = await em.execute<SkillRow[]>(`select * from ${TABLE} where "id" = ?`, [checkedId(id)]);
  if (!row) throw notFound('Skill', id);
  return row;
}

async function upsert(
  em: EntityManager,
  skill: SkillOnDisk,
  origin?: string,
  enabled?: boolean,
): Promise<SkillRow> {
  const [row] = await em.execute<SkillRow[]>(
    `insert into ${TABLE} ("id", "slug", "agent_id", "name", "description", "category", "version", "content",
       "files", "origin", "enabled")
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)
     on conflict ("id") do update set "name" = excluded."name", "description" = excluded."description",
       "category" = excluded."category", "version" = excluded."version", "content" = excluded."content",
       "files" = excluded."files", "updated_at" = now()
       ${origin ? ', "origin" = excluded."origin", "enabled" = excluded."enabled"' : ''}
     returning *`,
    [
      skill.id,
      skill.slug,
      skill.agentId,
      skill.name,
      skill.description,
      skill.category,
      skill.version,
      skill.content,
      JSON.stringify(skill.files),
      origin ?? 'local',
      enabled ?? true,
    ],
  );
  return row;
}

/**
 * Reads SKILLS_DIR again: each skill that reads cleanly is indexed with its files' hashes as they
 * are now (enabled state kept), and rows whose folder is gone or refused are dropped.
 */
export async function reloadSkills(em: EntityManager): Promise<SkillReload> {
  const { skills, refused } = await scanSkills(skillsDir());
  for (const skill of skills) await upsert(em, skill);
  const loaded = skills.map((s) => s.id);
  const removed = await em.execute<{ id: string }[]>(
    `delete from ${TABLE} where not ("id" = any(?::text[])) returning "id"`,
    [`{${loaded.map((id) => `"${id}"`).join(',')}}`],
  );
  return { loaded, removed: removed.map((r) => r.id).sort(), refused };
}

/**
 * At start: indexes only skills the index does not know yet. Recorded hashes stay as they were, so a
 * file changed (or a skill removed) while the platform was down shows in the audit; only a reload
 * (POST /api/skills/reload) takes the files as they are now.
 */
export async function indexNewSkills(em: EntityManager): Promise<string[]> {
  const { skills } = await scanSkills(skillsDir());
  const known = new Set(
    (await em.execute<{ id: string }[]>(`select "id" from ${TABLE}`)).map((row) => row.id),
  );
  const added = skills.filter((skill) => !known.has(skill.id));
  for (const skill of added) await upsert(em, skill);
  return added.map((skill) => skill.id);
}

/** A catalog name checked, and the catalog skill read (SKILL.md valid, no symlink out). */
async function catalogSkill(name: string): Promise<SkillOnDisk> {
  if (typeof name !== 'string' || !SLUG.test(name))
    throw badInput(`${JSON.stringify(name)} is not a catalog skill name (no paths)`, { field: 'name' });
  try {
    return await readSkill(catalogDir(), name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('Catalog skill', name);
    if (error instanceof SkillRefused) throw badInput(`catalog skill ${name}: ${error.message}`);
    throw error;
  }
}

@Resolver(() => Skill)
export class SkillResolver {
  @Authenticated()
  @Query(() => [Skill], {
    description:
      'Indexed skills by name; `category` matches exactly (any case), `search` any part of name or description.',
  })
  async skills(
    @Ctx() ctx: SubgraphContext,
    @Arg('category', () => String, { nullable: true }) category?: string | null,
    @Arg('search', () => String, { nullable: true }) search?: string | null,
  ): Promise<Skill[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (category?.trim()) {
      where.push('lower("category") = lower(?)');
      params.push(category.trim());
    }
    if (search?.trim()) {
      where.push(`("name" ilike ? or "description" ilike ? or "id" ilike ?)`);
      const pattern = `%${escapeLike(search.trim().slice(0, 200))}%`;
      params.push(pattern, pattern, pattern);
    }
    const rows = await ctx.em.execute<SkillRow[]>(
      `select * from ${TABLE} ${where.length ? `where ${where.join(' and ')}` : ''} order by "name", "id"`,
      params,
    );
    return rows.map(toSkill);
  }

  @Authenticated()
  @Query(() => Skill, { description: 'One skill with its SKILL.md content.' })
  async skill(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Skill> {
    return toSkill(await rowOf(ctx.em, id));
  }

  @Authenticated()
  @Query(() => [CatalogSkill], {
    description: 'The catalog shipped with the platform, and what is installed.',
  })
  async skillCatalog(@Ctx() ctx: SubgraphContext): Promise<CatalogSkill[]> {
    const { skills } = await scanSkills(catalogDir());
    const rows = await ctx.em.execute<{ id: string; enabled: boolean }[]>(
      `select "id", "enabled" from ${TABLE}`,
    );
    const indexed = new Map(rows.map((r) => [r.id, r.enabled]));
    return skills
      .filter((s) => !s.agentId)
      .map((s) => ({
        id: s.id,
        name: s.name,
        description: s.description,
        category: s.category,
        version: s.version,
        installed: indexed.has(s.id),
        enabled: indexed.get(s.id) ?? false,
      }));
  }

  @RequiresScopes('admin')
  @Query(() => [SkillAudit], {
    description: "Admins: each indexed skill's files against their recorded hashes.",
  })
  async skillAudit(@Ctx() ctx: SubgraphContext): Promise<SkillAudit[]> {
    requireAdmin(ctx, 'audit skills');
    const rows = await ctx.em.execute<SkillRow[]>(`select * from ${TABLE} order by "id"`);
    const root = skillsDir();
    const audits: SkillAudit[] = [];
    for (const row of rows) {
      let now: Record<string, string>;
      try {
        now = await hashFolder(await containedFolder(root, row.id));
      } catch (error) {
        const gone = (error as NodeJS.ErrnoException).code === 'ENOENT';
        if (!gone && !(error instanceof SkillRefused)) throw error;
        const missing = gone ? Object.keys(row.files) : [];
        const reason = gone ? 'the skill folder is gone' : (error as Error).message;
        audits.push({
          id: row.id,
          status: gone ? 'modified' : 'refused',
          changed: [],
          missing,
          unexpected: [],
          reason,
        });
        continue;
      }
      const recorded = row.files;
      const changed = Object.keys(recorded).filter((p) => p in now && now[p] !== recorded[p]);
      const missing = Object.keys(recorded).filter((p) => !(p in now));
      const unexpected = Object.keys(now).filter((p) => !(p in recorded));
      const clean = !changed.length && !missing.length && !unexpected.length;
      audits.push({
        id: row.id,
        status: clean ? 'ok' : 'modified',
        changed,
        missing,
        unexpected,
        reason: null,
      });
    }
    return audits;
  }

  @RequiresScopes('admin')
  @Mutation(() => SkillReload, {
    description: 'Admins: index SKILLS_DIR again (hashes as the files are now).',
  })
  reloadSkills(@Ctx() ctx: SubgraphContext): Promise<SkillReload> {
    requireAdmin(ctx, 'reload skills');
    return reloadSkills(ctx.em);
  }

  @RequiresScopes('admin')
  @Mutation(() => Skill, { description: 'Admins: enable or disable a skill (unset: the other state).' })
  async toggleSkill(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: SubgraphContext,
    @Arg('enabled', () => Boolean, { nullable: true }) enabled?: boolean | null,
  ): Promise<Skill> {
    requireAdmin(ctx, 'toggle a skill');
    const row = await rowOf(ctx.em, id);
    const [updated] = await ctx.em.execute<SkillRow[]>(
      `update ${TABLE} set "enabled" = ?, "updated_at" = now() where "id" = ? returning *`,
      [enabled ?? !row.enabled, row.id],
    );
    return toSkill(updated);
  }

  @RequiresScopes('admin')
  @Mutation(() => Skill, { description: 'Admins: delete a skill, its folder and its index row.' })
  async deleteSkill(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Skill> {
    requireAdmin(ctx, 'delete a skill');
    const row = await rowOf(ctx.em, id);
    const folder = await containedFolder(skillsDir(), row.id).catch((error: unknown) => {
      if (error instanceof SkillRefused)
        throw new AppError('CONFLICT', `skill ${row.id} was not deleted: ${error.message}`, { id: row.id });
      throw error;
    });
    await removeFolder(folder);
    await ctx.em.execute(`delete from ${TABLE} where "id" = ?`, [row.id]);
    return toSkill(row);
  }

  @RequiresScopes('admin')
  @Mutation(() => Skill, {
    description: 'Admins: copy a catalog skill into SKILLS_DIR and index it, disabled until activated.',
  })
  async installSkill(@Arg('name') name: string, @Ctx() ctx: SubgraphContext): Promise<Skill> {
    requireAdmin(ctx, 'install a skill');
    const source = await catalogSkill(name);
    const target = await containedFolder(skillsDir(), source.id).catch((error: unknown) => {
      if (error instanceof SkillRefused) throw new AppError('CONFLICT', error.message, { id: source.id });
      throw error;
    });
    const [exists] = await ctx.em.execute(`select 1 from ${TABLE} where "id" = ?`, [source.id]);
    if (exists) throw new AppError('CONFLICT', `skill ${source.id} is already installed`, { id: source.id });
    // A folder of that name that is not indexed (refused, or added since the last reload) is left
    // alone: copying into it would mix two skills.
    if (await pathExists(target))
      throw new AppError('CONFLICT', `a folder named ${source.id} is already in SKILLS_DIR`, {
        id: source.id,
      });
    await copySkill(folderOf(catalogDir(), source.id), target);
    const installed = await readSkill(skillsDir(), source.id);
    return toSkill(await upsert(ctx.em, installed, 'catalog', false));
  }

  @RequiresScopes('admin')
  @Mutation(() => Skill, { description: 'Admins: enable an installed catalog skill.' })
  async activateSkill(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Skill> {
    requireAdmin(ctx, 'activate a skill');
    const row = await rowOf(ctx.em, id);
    if (row.origin !== 'catalog')
      throw badInput(`skill ${id} was not installed from the catalog`, { field: 'id' });
    const [updated] = await ctx.em.execute<SkillRow[]>(
      `update ${TABLE} set "enabled" = true, "updated_at" = now() where "id" = ? returning *`,
      [row.id],
    );
    return toSkill(updated);
  }
}
