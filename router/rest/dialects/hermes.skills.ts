/**
 * Skills: 001's list and detail and 002's management routes, rows of the hermes dialect. The list
 * answers what Hermes Workspace reads from `/api/skills` (`skills` of entries with id, name,
 * description, category, content, enabled, installed, fileCount, tags), plus `total` and the
 * categories present. 002's routes answer errors as `{"error": …}`.
 */
import {
  SkillActivateDocument,
  SkillAuditDocument,
  SkillByIdDocument,
  SkillCatalogDocument,
  SkillDeleteDocument,
  SkillInstallDocument,
  SkillListDocument,
  SkillReloadDocument,
  SkillToggleDocument,
  type SkillFieldsFragment,
} from '../generated/graphql';
import { fromBody, fromBodyAs, fromPath, fromQuery, required } from '../mapping';
import { InputError, route, type Converter } from '../types';
import { runtime } from './hermes.runtime-errors';

/** One skill as Workspace's skills screen reads it; `content` is SKILL.md's body. */
const skill = (s: SkillFieldsFragment) => ({
  id: s.id,
  slug: s.slug,
  name: s.name,
  description: s.description,
  category: s.category,
  version: s.version,
  content: s.content,
  enabled: s.enabled,
  installed: true,
  origin: s.origin,
  agent_id: s.agentId,
  author: s.agentId ? `agent ${s.agentId}` : 'platform',
  tags: [s.category],
  triggers: [],
  fileCount: s.fileCount,
  files: s.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

/** An optional boolean in a JSON body: true or false, nothing else. */
export const bool: Converter = {
  schema: { type: 'boolean' },
  convert: (value) => {
    if (typeof value !== 'boolean') throw new InputError('must be true or false');
    return value;
  },
};

export const skillRoutes = [
  route({
    method: 'GET',
    path: '/api/skills',
    summary: 'List skills (filter by category, search name and description)',
    operation: SkillListDocument,
    variables: {
      category: fromQuery('category', undefined, 'only this category (any case)'),
      search: fromQuery('search', undefined, 'text in the name, description or id'),
    },
    shape: ({ skills }) => ({
      skills: skills.map(skill),
      total: skills.length,
      categories: [...new Set(skills.map((s) => s.category))].sort(),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/skills/catalog',
    summary: 'Catalog skills available to install',
    operation: SkillCatalogDocument,
    errors: runtime,
    shape: ({ skillCatalog }) => ({ skills: skillCatalog, total: skillCatalog.length }),
  }),
  route({
    method: 'GET',
    path: '/api/skills/audit',
    summary: "Audit skill integrity: each skill's files against their recorded hashes (admins)",
    operation: SkillAuditDocument,
    errors: runtime,
    shape: ({ skillAudit }) => ({
      skills: skillAudit,
      total: skillAudit.length,
      clean: skillAudit.every((a) => a.status === 'ok'),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/skills/:id',
    summary: 'Skill detail with its SKILL.md metadata and content',
    operation: SkillByIdDocument,
    variables: { id: fromPath('id') },
    shape: (d) => ({ skill: skill(d.skill), ...skill(d.skill) }),
  }),
  route({
    method: 'DELETE',
    path: '/api/skills/:id',
    summary: 'Delete a skill: its folder and index row (admins)',
    operation: SkillDeleteDocument,
    errors: runtime,
    variables: { id: fromPath('id') },
    shape: (d) => ({ deleted: true, id: d.deleteSkill.id }),
  }),
  route({
    method: 'POST',
    path: '/api/skills/reload',
    summary: 'Reload skills from disk (admins)',
    operation: SkillReloadDocument,
    errors: runtime,
    shape: ({ reloadSkills: r }) => ({
      reloaded: true,
      loaded: r.loaded,
      removed: r.removed,
      refused: r.refused,
    }),
  }),
  route({
    method: 'PUT',
    path: '/api/skills/:id/toggle',
    summary: 'Enable or disable a skill; no body flips it (admins)',
    operation: SkillToggleDocument,
    errors: runtime,
    variables: {
      id: fromPath('id'),
      enabled: fromBody('enabled', bool, 'the state wanted; left out: the other one'),
    },
    shape: (d) => ({ id: d.toggleSkill.id, enabled: d.toggleSkill.enabled, skill: skill(d.toggleSkill) }),
  }),
  route({
    method: 'POST',
    path: '/api/skills/catalog/install',
    summary: 'Install a skill from the catalog, disabled until activated (admins)',
    operation: SkillInstallDocument,
    errors: runtime,
    status: 201,
    variables: { name: required(fromBodyAs(['name', 'id'])) },
    shape: (d) => ({ installed: true, id: d.installSkill.id, skill: skill(d.installSkill) }),
  }),
  route({
    method: 'POST',
    path: '/api/skills/catalog/activate',
    summary: 'Activate an installed catalog skill (admins)',
    operation: SkillActivateDocument,
    errors: runtime,
    variables: { id: required(fromBodyAs(['id', 'name'])) },
    shape: (d) => ({ activated: true, id: d.activateSkill.id, skill: skill(d.activateSkill) }),
  }),
];
