/**
 * 002's agent runtime views, rows of the runtime dialect: start and stop a listed agent (pause and
 * unpause: whether it takes new work), its owner's sub-agent definitions and the roster of models.
 * Shapes follow the runtime (Ironclad) these routes come from; errors answer as `{"error": …}`.
 */
import {
  AgentPauseDocument,
  AgentUnpauseDocument,
  RosterListDocument,
  RosterSetModelDocument,
  SubAgentByNameDocument,
  SubAgentListDocument,
  SubAgentToggleDocument,
  type SubAgentFieldsFragment,
} from '../generated/graphql';
import { fromBody, fromPath, withDefault } from '../mapping';
import { route } from '../types';
import { bool } from './hermes.skills';

/** One sub-agent as the runtime lists it; sessions are not counted per sub-agent here (0). */
const subAgent = (s: SubAgentFieldsFragment) => ({
  id: s.id,
  name: s.name,
  display_name: s.displayName,
  model: s.model,
  role: 'subagent',
  description: s.description,
  skills: s.skills,
  fallback_models: s.fallbackModels,
  enabled: s.enabled,
  session_count: 0,
  runtime_state: s.enabled ? 'running' : 'stopped',
  taskable: s.enabled,
  agent_id: s.agentId,
});

const action = (id: string, word: 'started' | 'stopped') => ({ id, action: word });

export const runtimeAgentRoutes = [
  route({
    method: 'POST',
    path: '/api/agents/:id/start',
    summary: 'Start your agent: it takes new work again (unpause)',
    operation: AgentUnpauseDocument,
    variables: { id: fromPath('id') },
    shape: (d) => action(d.unpauseAgent.id, 'started'),
  }),
  route({
    method: 'POST',
    path: '/api/agents/:id/stop',
    summary: 'Stop your agent taking new work (pause); work under way continues',
    operation: AgentPauseDocument,
    variables: { id: fromPath('id') },
    shape: (d) => action(d.pauseAgent.id, 'stopped'),
  }),
  route({
    method: 'GET',
    path: '/api/subagents',
    summary: 'List your sub-agent definitions',
    operation: SubAgentListDocument,
    shape: ({ subAgents }) => ({
      agents: subAgents.map(subAgent),
      count: subAgents.length,
      runtime_summary: {
        booting: 0,
        running: subAgents.filter((s) => s.enabled).length,
        error: 0,
      },
    }),
  }),
  route({
    method: 'GET',
    path: '/api/subagents/:name',
    summary:
      "Sub-agent detail (as the 002 document lists it; Ironclad's source implements only PUT and DELETE here)",
    operation: SubAgentByNameDocument,
    variables: { name: fromPath('name') },
    shape: (d) => subAgent(d.subAgent),
  }),
  route({
    method: 'PUT',
    path: '/api/subagents/:name/toggle',
    summary: 'Enable or disable a sub-agent; no body flips it',
    operation: SubAgentToggleDocument,
    variables: {
      name: fromPath('name'),
      enabled: fromBody('enabled', bool, 'the state wanted; left out: the other one'),
    },
    shape: (d) => ({ name: d.toggleSubAgent.name, enabled: d.toggleSubAgent.enabled }),
  }),
  route({
    method: 'GET',
    path: '/api/roster',
    summary: 'Your sub-agents with their models, then your listed agents',
    operation: RosterListDocument,
    shape: ({ roster }) => ({
      roster: roster.map((r) => ({
        id: r.id,
        name: r.name,
        display_name: r.displayName,
        role: r.role,
        model: r.model,
        fallback_models: r.fallbackModels,
        enabled: r.enabled,
        description: r.description,
        skills: r.skills,
      })),
      count: roster.length,
    }),
  }),
  route({
    method: 'PUT',
    path: '/api/roster/:name/model',
    summary: "Change a sub-agent's model",
    operation: RosterSetModelDocument,
    // Left out reads as empty, refused as the runtime refuses it: "model cannot be empty".
    variables: { name: fromPath('name'), model: withDefault(fromBody('model'), '') },
    shape: ({ setSubAgentModel: c }) => ({
      updated: true,
      agent: c.subAgent.name,
      old_model: c.oldModel,
      new_model: c.newModel,
      fallback_models: c.subAgent.fallbackModels,
    }),
  }),
];
