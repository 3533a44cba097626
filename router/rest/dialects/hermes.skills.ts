/**
 * Skills: 001's list and detail and 002's management routes, rows of the hermes dialect. The list
 * answers what Hermes Workspace reads from `/api/skills` (`skills` of entries with id, name,
 * description, category, content, enabled, installed, fileCount, tags), plus `total` and the
 * categories present. 002's routes answer errors as `{"error": …}`.
 */
import { SkillByIdDocument, SkillListDocument, type SkillFieldsFragment } from '../generated/graphql';
import { fromPath, fromQuery } from '../mapping';
import { InputError, route, type Converter } from '../types';

/** One skill as Workspace's skills screen reads it; `content` is SKILL.md's body. */
export const skill = (s: SkillFieldsFragment) => ({
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
    path: '/api/skills/:id',
    summary: 'Skill detail with its SKILL.md metadata and content',
    operation: SkillByIdDocument,
    variables: { id: fromPath('id') },
    shape: (d) => ({ skill: skill(d.skill), ...skill(d.skill) }),
  }),
];
