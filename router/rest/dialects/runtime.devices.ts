/**
 * Devices, discovery, surfaces and the workspace overview (002's /api/runtime/* and
 * /api/workspace/state), rows of the runtime dialect in Ironclad's shapes
 * (api/routes/admin/advanced_runtime.rs, workspace_state.rs). Errors answer as `{"error": …}`.
 */
import {
  DeviceByIdDocument,
  DeviceListDocument,
  DevicePairDocument,
  DeviceUnpairDocument,
  DeviceVerifyDocument,
  DiscoveredAgentListDocument,
  DiscoveredAgentRegisterDocument,
  DiscoveredAgentVerifyDocument,
  RuntimeSurfacesDocument,
  WorkspaceStateDocument,
  type DeviceFieldsFragment,
  type DevicePairMutation,
  type DiscoveredAgentFieldsFragment,
} from '../generated/graphql';
import { fromBody, fromBodyAs, fromPath, lower, required } from '../mapping';
import { route, type ServedDialect } from '../types';
import { runtime } from './runtime.errors';

const device = (d: DeviceFieldsFragment) => ({
  device_id: d.id,
  device_name: d.name,
  state: lower(d.state),
  public_key_hex: d.publicKeyHex,
  fingerprint: d.fingerprint,
  paired_at: d.pairedAt ?? null,
  last_seen: d.lastSeenAt ?? null,
  created_at: d.createdAt,
});

const peer = (a: DiscoveredAgentFieldsFragment) => ({
  agent_id: a.id,
  name: a.name,
  url: a.url,
  capabilities: a.capabilities,
  verified: a.verified,
  discovery_method: lower(a.method),
  card_url: a.cardUrl ?? null,
  last_error: a.lastError ?? null,
  verified_at: a.verifiedAt ?? null,
  last_seen: a.lastSeenAt ?? null,
  created_at: a.createdAt,
});

const claimVariables = {
  'input.code': fromBodyAs(['pairing_code', 'code']),
  'input.publicKeyHex': fromBody(
    'public_key_hex',
    undefined,
    "the device's Ed25519 public key, 64 hex digits",
  ),
  'input.name': fromBodyAs(['device_name', 'name']),
} as const;

const pairingShape = ({ pairDevice: p }: DevicePairMutation) =>
  p.device
    ? {
        ok: true,
        device_id: p.device.id,
        state: lower(p.device.state),
        challenge: p.challenge,
        sign_message: p.signMessage,
        expires_at: p.expiresAt,
        expires_in: p.expiresIn,
        device: device(p.device),
      }
    : { ok: true, pairing_code: p.code, expires_at: p.expiresAt, expires_in: p.expiresIn };

/**
 * What this router serves, read from its own route table (so a capability another build adds, such
 * as the browser or MCP routes, shows here once its rows exist): each REST dialect and WebSocket,
 * and the tool surfaces by the route that serves each.
 */
function surfacesOf(dialects: ServedDialect[]) {
  const runtimeRoutes = new Set(dialects.find((d) => d.name === 'runtime')?.routes ?? []);
  const served = (route: string) => runtimeRoutes.has(route);
  const tool = (name: string, kind: string, route: string) => ({ name, kind, route, served: served(route) });
  return [
    { name: 'graphql', kind: 'graphql', path: '/graphql', served: true },
    ...dialects.map((d) => ({
      name: d.name,
      kind: 'rest',
      title: d.title,
      mount: d.mount || '/',
      routes: d.routes.length,
      served: true,
    })),
    ...dialects.flatMap((d) =>
      d.sockets.map((path) => ({
        name: `${d.name}-ws`,
        kind: 'websocket',
        path: `${d.mount}${path}`,
        served: true,
      })),
    ),
    tool('a2a', 'agent-card', 'GET /.well-known/agent-card.json'),
    tool('mcp', 'tools', 'GET /api/runtime/mcp'),
    tool('plugins', 'tools', 'GET /api/plugins'),
    tool('browser', 'tools', 'POST /api/browser/start'),
    tool('telegram', 'channel', 'POST /api/webhooks/telegram'),
    tool('whatsapp', 'channel', 'POST /api/webhooks/whatsapp'),
  ];
}

export const runtimeDeviceRoutes = [
  route({
    method: 'GET',
    path: '/api/runtime/surfaces',
    summary:
      "Runtime surfaces: the REST dialects, sockets and tools this router serves, and the caller's devices and peers",
    operation: RuntimeSurfacesDocument,
    errors: runtime,
    shape: ({ deviceSummary, discoverySummary }, { server }) => ({
      surfaces: surfacesOf(server.dialects),
      discovery: { count: discoverySummary.count, verified_count: discoverySummary.verifiedCount },
      devices: { paired_count: deviceSummary.pairedCount, trusted_count: deviceSummary.trustedCount },
    }),
  }),
  route({
    method: 'GET',
    path: '/api/runtime/devices',
    summary: 'Your paired devices (pending and verified)',
    operation: DeviceListDocument,
    errors: runtime,
    paged: { connection: (d) => d.devices },
    shape: ({ devices }) => ({ devices: devices.nodes.map(device), count: devices.totalCount }),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/devices/pair',
    summary:
      'Start pairing a device: a single-use code, valid DEVICE_PAIRING_TTL_SECONDS, that the device presents ' +
      'to /api/runtime/devices/pair/claim (sent here with pairing_code and the key, the claim is made as well)',
    operation: DevicePairDocument,
    errors: runtime,
    variables: claimVariables,
    shape: pairingShape,
  }),
  route({
    method: 'POST',
    path: '/api/runtime/devices/pair/claim',
    summary:
      "The device's step, without a credential (the code is one): pairing_code, public_key_hex (Ed25519) and " +
      'device_name answer the challenge it signs for /api/runtime/devices/:id/verify',
    operation: DevicePairDocument,
    errors: runtime,
    // The device holds no credential of the platform: the single-use code names the owner.
    public: true,
    variables: { ...claimVariables, 'input.code': required(fromBodyAs(['pairing_code', 'code'])) },
    shape: pairingShape,
  }),
  route({
    method: 'GET',
    path: '/api/runtime/devices/:id',
    summary: 'One of your paired devices',
    operation: DeviceByIdDocument,
    errors: runtime,
    variables: { id: fromPath('id') },
    shape: (d) => device(d.device),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/devices/:id/verify',
    summary: "Verify a pairing: the device's Ed25519 signature (hex) of the sign_message it was given",
    operation: DeviceVerifyDocument,
    errors: runtime,
    // The device's signature is the proof; it holds no credential of the platform.
    public: true,
    variables: {
      id: fromPath('id'),
      signatureHex: required(fromBodyAs(['signature_hex', 'signature'])),
    },
    shape: ({ verifyDevice: d }) => ({ ok: true, device_id: d.id, state: lower(d.state), device: device(d) }),
  }),
  route({
    method: 'DELETE',
    path: '/api/runtime/devices/:id',
    summary: 'Unpair one of your devices',
    operation: DeviceUnpairDocument,
    errors: runtime,
    variables: { id: fromPath('id') },
    shape: ({ unpairDevice }) => ({ ok: true, device_id: unpairDevice.id }),
  }),
  route({
    method: 'GET',
    path: '/api/runtime/discovery',
    summary: 'Your discovered peer agents and whether their A2A card verified',
    operation: DiscoveredAgentListDocument,
    errors: runtime,
    paged: { connection: (d) => d.discoveredAgents },
    shape: ({ discoveredAgents: list }) => ({ agents: list.nodes.map(peer), count: list.totalCount }),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/discovery',
    summary:
      'Register a peer by url: with a name it stays unverified until verified; without one its A2A card is fetched now',
    operation: DiscoveredAgentRegisterDocument,
    errors: runtime,
    status: 201,
    variables: {
      'input.url': required(fromBodyAs(['url', 'base_url'])),
      'input.name': fromBody('name'),
      'input.capabilities': fromBody('capabilities'),
    },
    shape: ({ registerDiscoveredAgent: a }) => ({ ok: true, agent_id: a.id, agent: peer(a) }),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/discovery/:id/verify',
    summary: 'Verify a peer: fetch its A2A agent card (private addresses refused) and check it parses',
    operation: DiscoveredAgentVerifyDocument,
    errors: runtime,
    variables: { id: fromPath('id') },
    shape: ({ verifyDiscoveredAgent: a }) => ({ ok: true, agent_id: a.id, agent: peer(a) }),
  }),
  route({
    method: 'GET',
    path: '/api/workspace/state',
    summary:
      'Your workspace overview: agents, skills, counts of sessions, messages, memory, tasks, devices and peers, and storage use',
    operation: WorkspaceStateDocument,
    errors: runtime,
    shape: (d) => {
      const enabled = d.skills.filter((s) => s.enabled);
      return {
        agents: d.myAgents.nodes.map((a) => ({
          id: a.id,
          name: a.name,
          ticker: a.ticker,
          state: lower(a.status),
          accepts_work: a.acceptsWork,
        })),
        skills: enabled.map((s) => s.name),
        counts: {
          agents: d.myAgents.totalCount,
          skills: d.skills.length,
          skills_enabled: enabled.length,
          sessions: d.sessionStorage.sessions,
          messages: d.sessionStorage.messages,
          memory_entries: d.memoryStats.total,
          tasks: d.taskStats.total,
          devices: d.deviceSummary.pairedCount,
          discovered_agents: d.discoverySummary.count,
        },
        storage: {
          memory_bytes: d.memoryStats.sizeBytes,
          message_bytes: d.sessionStorage.contentBytes,
          skill_files: d.skills.reduce((sum, s) => sum + s.fileCount, 0),
        },
      };
    },
  }),
];
