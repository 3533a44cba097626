/**
 * A2A (002): the agent card at both well-known paths, validated with ajv against the A2A 0.3.0 JSON
 * Schema (vendored) and the 1.0 card's required fields (encoded from a2a.proto; see
 * test/fixtures/a2a/SOURCE.md); its skills are the enabled platform skills; the hello handshake
 * answers the card and a new chat session of the caller.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { TestPlatform } from '../support/platform';
import { startWithSkills } from './skills.support';
import { rest, type Rest } from './support';

let t: TestPlatform;
let dir: string;
let adaApi: Rest;
let admin: Rest;
let anonymous: Rest;

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '../fixtures/a2a', name), 'utf8'));
const v03 = fixture('a2a-v0.3.0.schema.json');
const v1 = fixture('agent-card-v1.0.schema.json');
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
ajv.addSchema(v03, 'a2a-0.3.0');
const validV03 = ajv.compile({ $ref: 'a2a-0.3.0#/definitions/AgentCard' });
const validV1 = ajv.compile(v1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentry-a2a-'));
  for (const slug of ['translate', 'hidden']) {
    await mkdir(join(dir, slug));
    await writeFile(
      join(dir, slug, 'SKILL.md'),
      `---\nname: ${slug}\ndescription: The ${slug} skill.\ncategory: language\nversion: 1.0.0\n---\nSteps.\n`,
    );
  }
  await mkdir(join(dir, 'agents', 'agt_x', 'private'), { recursive: true });
  await writeFile(
    join(dir, 'agents', 'agt_x', 'private', 'SKILL.md'),
    '---\nname: private\ndescription: An agent of its own.\n---\n',
  );
  ({ t, adaApi, admin, anonymous } = await startWithSkills(dir));
  expect((await admin('PUT', '/runtime/api/skills/hidden/toggle', { body: { enabled: false } })).status).toBe(
    200,
  );
});
afterAll(async () => {
  delete process.env.SKILLS_DIR;
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const host = () => new URL(t.url).host;

test('GET /.well-known/agent.json: public, the 0.3 card, valid against the A2A 0.3.0 JSON Schema', async () => {
  const { status, body } = await anonymous('GET', '/runtime/.well-known/agent.json');
  expect(status).toBe(200);
  expect(validV03(body) ? [] : validV03.errors).toEqual([]);
  expect(body).toEqual({
    protocolVersion: '0.3.0',
    name: 'Agentry',
    description: expect.any(String),
    url: `http://${host()}/runtime/api/a2a`,
    preferredTransport: 'HTTP+JSON',
    version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: expect.any(String) } },
    security: [{ bearer: [] }],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    // Enabled platform skills only: not the disabled one, not an agent's own.
    skills: [{ id: 'translate', name: 'translate', description: 'The translate skill.', tags: ['language'] }],
  });
  // A bad credential does not refuse public metadata.
  expect((await rest(t, 'not-a-key')('GET', '/runtime/.well-known/agent.json')).status).toBe(200);
});

test('GET /.well-known/agent-card.json: the current (1.0) card, valid against its required fields', async () => {
  const { status, body } = await anonymous('GET', '/runtime/.well-known/agent-card.json');
  expect(status).toBe(200);
  expect(validV1(body) ? [] : validV1.errors).toEqual([]);
  expect(body.supportedInterfaces).toEqual([
    { url: `http://${host()}/runtime/api/a2a`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
  ]);
  expect(new URL(body.supportedInterfaces[0].url).pathname).toBe('/runtime/api/a2a');
  expect(body.securitySchemes).toEqual({
    bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: expect.any(String) } },
  });
  expect(body.skills.map((s: { id: string }) => s.id)).toEqual(['translate']);
  // The validators do refuse a card missing what the specification requires.
  const { skills: _skills, ...noSkills } = body;
  expect(validV1(noSkills)).toBe(false);
  expect(validV03({ ...noSkills, url: 'x' })).toBe(false);
});

test('a skill enabled later is on the card', async () => {
  await admin('PUT', '/runtime/api/skills/hidden/toggle', { body: { enabled: true } });
  const { body } = await anonymous('GET', '/runtime/.well-known/agent-card.json');
  expect(body.skills.map((s: { id: string }) => s.id)).toEqual(['hidden', 'translate']);
  await admin('PUT', '/runtime/api/skills/hidden/toggle', { body: { enabled: false } });
});

test('POST /api/a2a/hello: the card and a new chat session of the caller', async () => {
  const { status, body } = await adaApi('POST', '/runtime/api/a2a/hello', {
    body: { title: 'From a peer agent' },
  });
  expect(status).toBe(200);
  expect(validV1(body.card) ? [] : validV1.errors).toEqual([]);
  expect(body).toMatchObject({
    protocol_version: '1.0',
    session_id: body.session.id,
    session: { title: 'From a peer agent', status: 'active', message_count: 0 },
  });
  // The session is the caller's: it is in her list, with the default title when none is given.
  const again = await adaApi('POST', '/runtime/api/a2a/hello');
  expect(again.body.session.title).toBe('A2A session');
  const mine = await adaApi('GET', `/api/sessions/${body.session_id}`);
  expect(mine.status).toBe(200);
  const bob = await t.register('Bob');
  expect((await rest(t, bob.credential)('GET', `/api/sessions/${body.session_id}`)).status).toBe(404);
});

test('hello needs a caller; its errors are {"error": …}', async () => {
  const { status, body } = await anonymous('POST', '/runtime/api/a2a/hello', { body: {} });
  expect(status).toBe(401);
  expect(body).toEqual({ error: 'unauthorized', message: expect.any(String) });
});
