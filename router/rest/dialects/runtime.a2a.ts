/**
 * A2A (002): the platform's agent card and the handshake, rows of the runtime dialect (which owns
 * `/.well-known` for them). The current specification (A2A v1.0) publishes the card at
 * `/.well-known/agent-card.json`, its interfaces under `supportedInterfaces` and security schemes as
 * a oneof; 002 documents the older path `/.well-known/agent.json`, which older (0.x) clients read,
 * so that path answers the card in the 0.3 form (`url`, `protocolVersion`, `securitySchemes` by `type`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { loadConfig } from '../../../lib';
import { A2aAgentCardDocument, A2aHelloDocument, type AgentCardFieldsFragment } from '../generated/graphql';
import { fromBody, withDefault } from '../mapping';
import { route } from '../types';
import { session } from './hermes';

const MODES = ['text/plain', 'application/json'];
const BEARER_HELP =
  'An API key or an access token of the platform, sent as Authorization: Bearer <credential>.';
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** Where A2A callers reach the platform: A2A_PUBLIC_URL, PUBLIC_URL, else the request's Host. */
function baseUrl(headers: IncomingHttpHeaders): string {
  const config = loadConfig();
  if (config.A2A_PUBLIC_URL) return config.A2A_PUBLIC_URL.replace(/\/+$/, '');
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '') + config.REST_MOUNT_RUNTIME;
  const host = typeof headers.host === 'string' && HOST.test(headers.host) ? headers.host : 'localhost';
  return `http://${host}${config.REST_MOUNT_RUNTIME}`;
}

const skills = (card: AgentCardFieldsFragment) =>
  card.skills.map((s) => ({ id: s.id, name: s.name, description: s.description, tags: s.tags }));

/** The card as A2A v1.0 defines it (ProtoJSON names). */
export const cardV1 = (card: AgentCardFieldsFragment, headers: IncomingHttpHeaders) => ({
  name: card.name,
  description: card.description,
  supportedInterfaces: [
    { url: `${baseUrl(headers)}/api/a2a`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
  ],
  version: card.version,
  capabilities: { streaming: false, pushNotifications: false },
  securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: BEARER_HELP } } },
  securityRequirements: [{ schemes: { bearer: { list: [] } } }],
  defaultInputModes: MODES,
  defaultOutputModes: MODES,
  skills: skills(card),
});

/** The card in A2A 0.3's form, for clients of the older well-known path. */
const cardV03 = (card: AgentCardFieldsFragment, headers: IncomingHttpHeaders) => ({
  protocolVersion: '0.3.0',
  name: card.name,
  description: card.description,
  url: `${baseUrl(headers)}/api/a2a`,
  preferredTransport: 'HTTP+JSON',
  version: card.version,
  capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
  securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: BEARER_HELP } },
  security: [{ bearer: [] }],
  defaultInputModes: MODES,
  defaultOutputModes: MODES,
  skills: skills(card),
});

export const a2aRoutes = [
  route({
    method: 'GET',
    path: '/.well-known/agent.json',
    summary: 'A2A agent card (public metadata), in the 0.3 form older clients read at this path',
    operation: A2aAgentCardDocument,
    public: true,
    shape: (d, { input }) => cardV03(d.agentCard, input.headers),
  }),
  route({
    method: 'GET',
    path: '/.well-known/agent-card.json',
    summary: 'A2A agent card (public metadata) at the well-known path of the current specification (1.0)',
    operation: A2aAgentCardDocument,
    public: true,
    shape: (d, { input }) => cardV1(d.agentCard, input.headers),
  }),
  route({
    method: 'POST',
    path: '/api/a2a/hello',
    summary: 'A2A handshake initiation: the agent card and a new chat session of the caller',
    operation: A2aHelloDocument,
    variables: {
      'input.title': withDefault(fromBody('title', undefined, 'title of the session'), 'A2A session'),
      'input.model': fromBody('model', undefined, 'model of the session'),
      'input.agentId': fromBody('agent_id', undefined, 'a marketplace agent the session talks to'),
    },
    shape: (d, { input }) => ({
      protocol_version: '1.0',
      card: cardV1(d.a2aHello, input.headers),
      session_id: d.startSession.id,
      session: session(d.startSession),
    }),
  }),
];
