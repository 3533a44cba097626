/**
 * The platform settings store over REST: 001's config routes (`{"detail"}` errors) and 002's
 * (`{"error"}`). Keys are dot notation (`model.temperature`); secrets read as "***". The settings
 * themselves, their types and ranges are lib/settings.ts; the accounts subgraph stores them.
 */
import {
  ConfigReadDocument,
  ConfigUpdateDocument,
  type ConfigReadQuery,
  type SettingFieldsFragment,
} from '../generated/graphql';
import { flattenSettings } from '../../../lib';
import { RestError } from '../errors';
import { derived } from '../mapping';
import { route, type RouteInput } from '../types';

type Setting = SettingFieldsFragment;

const valueOf = (s: Setting): unknown => JSON.parse(s.value);

/** One setting in snake_case, its value as JSON. */
export const setting = (s: Setting) => ({
  key: s.key,
  value: valueOf(s),
  default: JSON.parse(s.defaultValue) as unknown,
  type: s.type,
  minimum: s.minimum,
  maximum: s.maximum,
  description: s.description,
  source: s.source.toLowerCase(),
  live: s.live,
  restart_required: !s.live,
  secret: s.secret,
  env: s.environmentVariable,
  updated_at: s.updatedAt,
  updated_by: s.updatedBy,
});

/** The settings as a tree by their dots: `model.default` → `{model: {default}}`. */
function tree(settings: Setting[]) {
  const root: Record<string, Record<string, unknown>> = Object.create(null);
  for (const s of settings) {
    const [group, ...rest] = s.key.split('.');
    (root[group] ??= Object.create(null))[rest.join('.')] = valueOf(s);
  }
  return root;
}

const byKey = (settings: Setting[], key: string) => {
  const found = settings.find((s) => s.key === key);
  return found ? valueOf(found) : null;
};

/** The default model and its sampling, as 001's /api/config/model shows them. */
const modelConfig = (settings: Setting[], provider: string | null) => ({
  model: byKey(settings, 'model.default'),
  provider,
  temperature: byKey(settings, 'model.temperature'),
  max_tokens: byKey(settings, 'model.max_tokens'),
});

/** A partial configuration object as changes, each value as JSON text. */
const changesOf = (body: Record<string, unknown>) =>
  flattenSettings(body).map(([key, value]) => ({ key, value: JSON.stringify(value) }));

const nothingToChange = () => new RestError('BAD_USER_INPUT', 'the body names no setting to change');

/** 001's `{key, value}`. */
const oneChange = derived(({ body }: RouteInput) => {
  if (typeof body.key !== 'string' || !body.key) throw new RestError('BAD_USER_INPUT', 'key is required');
  if (!('value' in body)) throw new RestError('BAD_USER_INPUT', 'value is required');
  return [{ key: body.key, value: JSON.stringify(body.value) }];
}, 'key, value');

/** A partial configuration object, nested or dotted. */
export const manyChanges = derived(({ body }: RouteInput) => {
  const changes = changesOf(body);
  if (!changes.length) throw nothingToChange();
  return changes;
}, 'settings');

/** 001's model body: `{model, temperature, max_tokens}`; the provider follows from the model. */
const MODEL_FIELDS: Record<string, string> = {
  model: 'model.default',
  temperature: 'model.temperature',
  max_tokens: 'model.max_tokens',
};
const modelChanges = derived(({ body }: RouteInput) => {
  const changes = Object.entries(MODEL_FIELDS)
    .filter(([field]) => body[field] !== undefined)
    .map(([field, key]) => ({ key, value: JSON.stringify(body[field]) }));
  if (!changes.length) throw new RestError('BAD_USER_INPUT', 'give model, temperature or max_tokens');
  return changes;
}, 'model, temperature, max_tokens');

export const readShape = ({ platformSettings: all, gatewayStatus: g }: ConfigReadQuery) => ({
  // Hermes Workspace reads the model and provider at the top.
  ...modelConfig(all, g.defaultProvider),
  config: tree(all),
  settings: all.map(setting),
});

export const configRoutes = [
  route({
    method: 'GET',
    path: '/api/config',
    summary: 'Read the platform settings (secrets redacted) as a tree and a list',
    operation: ConfigReadDocument,
    shape: readShape,
  }),
  route({
    method: 'POST',
    path: '/api/config',
    summary: 'Change one setting, dot-notation key (admins); a live one applies at once everywhere',
    operation: ConfigUpdateDocument,
    variables: { changes: oneChange },
    shape: ({ updatePlatformSettings: [s] }) => ({
      updated: true,
      key: s.key,
      value: valueOf(s),
      live: s.live,
      restart_required: !s.live,
    }),
  }),
  // Workspace's patchConfig sends a partial object.
  route({
    method: 'PATCH',
    path: '/api/config',
    summary: 'Change several settings at once, nested or dotted keys (admins; all or none)',
    operation: ConfigUpdateDocument,
    variables: { changes: manyChanges },
    shape: ({ updatePlatformSettings: changed }) => ({
      updated: changed.map((s) => s.key),
      settings: changed.map(setting),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/config/model',
    summary: 'The default model, its provider, temperature and max tokens',
    operation: ConfigReadDocument,
    shape: ({ platformSettings: all, gatewayStatus: g }) => modelConfig(all, g.defaultProvider),
  }),
  route({
    method: 'POST',
    path: '/api/config/model',
    summary: 'Change the default model, temperature or max tokens (admins); chat uses them at once',
    operation: ConfigUpdateDocument,
    variables: { changes: modelChanges },
    shape: ({ updatePlatformSettings: changed }) => ({
      updated: true,
      ...Object.fromEntries(
        Object.entries(MODEL_FIELDS).flatMap(([field, key]) => {
          const s = changed.find((c) => c.key === key);
          return s ? [[field, valueOf(s)]] : [];
        }),
      ),
    }),
  }),
];
