/**
 * Skills (002): the catalog, audit, reload, toggle, install and activate routes, rows of the
 * runtime dialect; a skill reads as in hermes.skills.ts. Errors answer as `{"error": …}`.
 */
import {
  SkillActivateDocument,
  SkillAuditDocument,
  SkillCatalogDocument,
  SkillDeleteDocument,
  SkillInstallDocument,
  SkillReloadDocument,
  SkillToggleDocument,
} from '../generated/graphql';
import { fromBody, fromBodyAs, fromPath, required } from '../mapping';
import { route } from '../types';
import { bool, skill, skillRoutes } from './hermes.skills';

export const runtimeSkillRoutes = [
  // 001's list and detail are 002's too; they answer errors in the runtime dialect's format.
  ...skillRoutes,
  route({
    method: 'GET',
    path: '/api/skills/catalog',
    summary: 'Catalog skills available to install',
    operation: SkillCatalogDocument,
    shape: ({ skillCatalog }) => ({ skills: skillCatalog, total: skillCatalog.length }),
  }),
  route({
    method: 'GET',
    path: '/api/skills/audit',
    summary: "Audit skill integrity: each skill's files against their recorded hashes (admins)",
    operation: SkillAuditDocument,
    shape: ({ skillAudit }) => ({
      skills: skillAudit,
      total: skillAudit.length,
      clean: skillAudit.every((a) => a.status === 'ok'),
    }),
  }),
  route({
    method: 'DELETE',
    path: '/api/skills/:id',
    summary: 'Delete a skill: its folder and index row (admins)',
    operation: SkillDeleteDocument,
    variables: { id: fromPath('id') },
    shape: (d) => ({ deleted: true, id: d.deleteSkill.id }),
  }),
  route({
    method: 'POST',
    path: '/api/skills/reload',
    summary: 'Reload skills from disk (admins)',
    operation: SkillReloadDocument,
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
    status: 201,
    variables: { name: required(fromBodyAs(['name', 'id'])) },
    shape: (d) => ({ installed: true, id: d.installSkill.id, skill: skill(d.installSkill) }),
  }),
  route({
    method: 'POST',
    path: '/api/skills/catalog/activate',
    summary: 'Activate an installed catalog skill (admins)',
    operation: SkillActivateDocument,
    variables: { id: required(fromBodyAs(['id', 'name'])) },
    shape: (d) => ({ activated: true, id: d.activateSkill.id, skill: skill(d.activateSkill) }),
  }),
];
