/**
 * Configuration (002): read, update, capabilities and apply status, rows of the runtime dialect
 * over the same settings store as hermes.config.ts. Errors answer as `{"error": …}`.
 */
import { ConfigReadDocument, ConfigUpdateDocument } from '../generated/graphql';
import { route } from '../types';
import { manyChanges, readShape, setting } from './hermes.config';

export const runtimeConfigRoutes = [
  route({
    method: 'GET',
    path: '/api/config',
    summary: 'Read the platform settings (secrets redacted) as a tree and a list',
    operation: ConfigReadDocument,
    shape: readShape,
  }),
  route({
    method: 'PUT',
    path: '/api/config',
    summary: 'Update configuration: a partial object of settings (admins; all or none)',
    operation: ConfigUpdateDocument,
    variables: { changes: manyChanges },
    shape: ({ updatePlatformSettings: changed }) => ({
      updated: changed.map((s) => s.key),
      // Only live settings can be changed here, so each applied at once.
      applied: changed.map((s) => s.key),
      settings: changed.map(setting),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/config/capabilities',
    summary: 'Feature capability flags, and which settings apply live',
    operation: ConfigReadDocument,
    shape: ({ platformSettings: all, gatewayStatus: g }) => ({
      capabilities: {
        chat: g.features.chatStream,
        streaming: g.features.streaming,
        sessions: g.features.sessions,
        memory: g.features.memory,
        tasks: g.features.tasks,
        wallet: g.features.wallet,
        mcp: g.features.mcpServers,
        config_live_reload: true,
      },
      live_settings: all.filter((s) => s.live).map((s) => s.key),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/config/status',
    summary: 'Config apply status: what was changed and applied, what needs a restart',
    operation: ConfigReadDocument,
    shape: ({ platformSettings: all }) => ({
      applied: all
        .filter((s) => s.source === 'STORED')
        .map((s) => ({ key: s.key, updated_at: s.updatedAt, updated_by: s.updatedBy })),
      live: all.filter((s) => s.live).map((s) => s.key),
      restart_required: all.filter((s) => !s.live).map((s) => s.key),
      // Live settings apply as they are changed; nothing waits for a restart.
      pending: [],
    }),
  }),
];
