/**
 * Skills on disk: a skill is a folder holding a SKILL.md (YAML front matter: name, description,
 * category, version; the body is its instructions) and any files it needs. Platform skills live in
 * SKILLS_DIR/<slug>, an agent's in SKILLS_DIR/agents/<agentId>/<slug>; the catalog (shipped with the
 * project, SKILLS_CATALOG_DIR) is installed from. Names are checked against a pattern before they
 * touch a path, and a symlink leading out of its skill's folder refuses the whole skill.
 */
import { createHash } from 'node:crypto';
import { cp, lstat, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, projectRoot } from '../../../lib';

export const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The folder under SKILLS_DIR that holds agents' skills (so no platform skill has this name). */
export const AGENTS_FOLDER = 'agents';
const MAX_FILES = 200;
const MAX_FILE_BYTES = 1_048_576;

export interface SkillMeta {
  name: string;
  description: string;
  category: string;
  version: string;
  content: string;
}

export interface SkillOnDisk extends SkillMeta {
  id: string;
  slug: string;
  agentId: string | null;
  /** Each file's path inside the folder (forward slashes) and its SHA-256, hex. */
  files: Record<string, string>;
}

/** A skill or a name the platform will not use, and why. */
export class SkillRefused extends Error {}

export function skillsDir(): string {
  const config = loadConfig();
  return resolve(config.SKILLS_DIR ?? join(config.DATA_DIR, 'skills'));
}

export function catalogDir(): string {
  return resolve(loadConfig().SKILLS_CATALOG_DIR ?? join(projectRoot(), 'subgraphs/agents/skills/catalog'));
}

/** A skill's id: its slug, or `<agentId>.<slug>` for an agent's. Anything else is refused. */
export function parseSkillId(id: string): { slug: string; agentId: string | null } {
  const dot = id.indexOf('.');
  const [agentId, slug] = dot < 0 ? [null, id] : [id.slice(0, dot), id.slice(dot + 1)];
  if (
    !SLUG.test(slug) ||
    (agentId !== null && !AGENT_ID.test(agentId)) ||
    (!agentId && slug === AGENTS_FOLDER)
  )
    throw new SkillRefused(`${JSON.stringify(id)} is not a skill id (letters, digits, - and _; no paths)`);
  return { slug, agentId };
}

export function folderOf(root: string, id: string): string {
  const { slug, agentId } = parseSkillId(id);
  const folder = agentId ? join(root, AGENTS_FOLDER, agentId, slug) : join(root, slug);
  // The pattern already rules out `..` and separators; this is the second lock on the same door.
  const rel = relative(root, folder);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new SkillRefused(`${id} is outside the skills folder`);
  return folder;
}

/**
 * A skill's folder, checked on disk: no level below the root (`agents`, `agents/<agentId>`, the
 * skill folder) may be a symlink, and what exists of the path must resolve inside the root, so
 * nothing read, hashed, written or deleted through a skill id lies outside SKILLS_DIR. Levels that
 * do not exist yet (a skill about to be installed) pass.
 */
export async function containedFolder(root: string, id: string): Promise<string> {
  const folder = folderOf(root, id);
  const realRoot = await realpath(root).catch(() => root);
  let level = root;
  for (const part of relative(root, folder).split(sep)) {
    level = join(level, part);
    const info = await lstat(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!info) return folder;
    if (info.isSymbolicLink())
      throw new SkillRefused(`${relative(root, level).split(sep).join('/')} is a symlink`);
    const real = await realpath(level);
    if (real !== realRoot && !real.startsWith(realRoot + sep))
      throw new SkillRefused(`${id} resolves outside the skills folder`);
  }
  return folder;
}

/** SKILL.md's front matter and body. The YAML is parsed as data only (no tags that run code). */
export function parseSkillMd(text: string): SkillMeta {
  const match = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text.replace(/^\uFEFF/, ''));
  if (!match) throw new SkillRefused('SKILL.md has no YAML front matter between --- lines');
  let front: unknown;
  try {
    front = parse(match[1], { schema: 'core', maxAliasCount: 10 });
  } catch (error) {
    throw new SkillRefused(`SKILL.md front matter is not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!front || typeof front !== 'object' || Array.isArray(front))
    throw new SkillRefused('SKILL.md front matter must be a mapping');
  const field = (key: string, fallback?: string): string => {
    const value = (front as Record<string, unknown>)[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new SkillRefused(`SKILL.md front matter needs ${key}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new SkillRefused(`SKILL.md front matter ${key} must be text`);
    const text = String(value).trim();
    if (!text && fallback === undefined) throw new SkillRefused(`SKILL.md front matter ${key} is empty`);
    return text.slice(0, key === 'description' ? 1024 : 100) || (fallback ?? '');
  };
  return {
    name: field('name'),
    description: field('description'),
    category: field('category', 'general'),
    version: field('version', '0.0.0'),
    content: match[2].trim(),
  };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Every file of a skill folder with its hash. A symlink is followed only when it stays inside the
 * folder; one that leads out (or dangles) refuses the skill.
 */
export async function hashFolder(folder: string): Promise<Record<string, string>> {
  const top = await lstat(folder);
  if (top.isSymbolicLink()) throw new SkillRefused('the skill folder is a symlink');
  const root = await realpath(folder);
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split(sep).join('/');
      let target = path;
      if (entry.isSymbolicLink()) {
        target = await realpath(path).catch(() => '');
        if (!target || (target !== root && !target.startsWith(root + sep)))
          throw new SkillRefused(`${rel} is a symlink out of the skill folder`);
      }
      const info = await stat(target);
      if (info.isDirectory()) {
        if (entry.isSymbolicLink()) throw new SkillRefused(`${rel} is a symlink to a folder`);
        await walk(path);
      } else if (info.isFile()) {
        if (Object.keys(files).length >= MAX_FILES) throw new SkillRefused(`more than ${MAX_FILES} files`);
        if (info.size > MAX_FILE_BYTES)
          throw new SkillRefused(`${rel} is larger than ${MAX_FILE_BYTES} bytes`);
        files[rel] = sha256(await readFile(target));
      }
    }
  };
  await walk(root);
  return files;
}

/** One skill folder read whole: SKILL.md parsed and every file hashed. */
export async function readSkill(root: string, id: string): Promise<SkillOnDisk> {
  const folder = await containedFolder(root, id);
  const files = await hashFolder(folder);
  if (!files['SKILL.md']) throw new SkillRefused('the folder has no SKILL.md');
  const meta = parseSkillMd(await readFile(join(folder, 'SKILL.md'), 'utf8'));
  return { ...meta, id, ...parseSkillId(id), files };
}

/** The folders in `dir` by name; with `symlinks`, symlinks too (a skill read later refuses them). */
const folders = async (dir: string, symlinks = true): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((e) => (e.isDirectory() || (symlinks && e.isSymbolicLink())) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
};

/** Every skill id found under `root` (platform skills, then each agent's); bad names are refused. */
export async function skillIds(
  root: string,
): Promise<{ ids: string[]; refused: { id: string; reason: string }[] }> {
  const ids: string[] = [];
  const refused: { id: string; reason: string }[] = [];
  const consider = (id: string) => {
    try {
      parseSkillId(id);
      ids.push(id);
    } catch (error) {
      refused.push({ id, reason: (error as Error).message });
    }
  };
  for (const name of await folders(root)) if (name !== AGENTS_FOLDER) consider(name);
  // The agents folder and each agent's are walked only when they are real folders: a symlink there
  // would bring in (and let delete reach) files outside SKILLS_DIR.
  const agents = join(root, AGENTS_FOLDER);
  if ((await lstat(agents).catch(() => null))?.isSymbolicLink()) {
    refused.push({ id: AGENTS_FOLDER, reason: 'the agents folder is a symlink' });
    return { ids, refused };
  }
  const agentFolders = new Set(await folders(agents, false));
  for (const agentId of await folders(agents)) {
    if (!agentFolders.has(agentId)) refused.push({ id: agentId, reason: 'the agent folder is a symlink' });
    else if (!AGENT_ID.test(agentId)) refused.push({ id: agentId, reason: 'not an agent id' });
    else for (const slug of await folders(join(agents, agentId))) consider(`${agentId}.${slug}`);
  }
  return { ids, refused };
}

/** Every skill under `root` that reads cleanly, and those refused with their reasons. */
export async function scanSkills(root: string) {
  const { ids, refused } = await skillIds(root);
  const skills: SkillOnDisk[] = [];
  for (const id of ids) {
    try {
      skills.push(await readSkill(root, id));
    } catch (error) {
      if (!(error instanceof SkillRefused) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      refused.push({ id, reason: (error as Error).message });
    }
  }
  return { skills, refused };
}

/** Copies a catalog skill (already read and checked) into the skills folder. */
export async function copySkill(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
}

/** Whether anything (a folder, a file, a symlink, even a dangling one) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

export async function removeFolder(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true });
}
