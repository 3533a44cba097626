/**
 * What the setup interview asks of the LLM, and how its proposed configuration is read: a JSON
 * object of platform settings, checked against the same schemas the config store applies
 * (lib/settings.ts), so a proposal that passes here is one the store accepts.
 */
import { flattenSettings, parseSetting, PLATFORM_SETTINGS } from '../../../lib';

export type SettingValue = string | number | boolean;

export type Proposal =
  { valid: true; settings: Map<string, SettingValue> } | { valid: false; errors: string[] };

/** More than the live settings there are: a longer proposal is not a configuration. */
const MAX_PROPOSED_SETTINGS = 50;

function describeLiveSettings(): string {
  return [...PLATFORM_SETTINGS]
    .filter(([, definition]) => definition.live)
    .map(([key, d]) => {
      const range = d.minimum !== undefined ? ` from ${d.minimum} to ${d.maximum}` : '';
      return `- ${key} (${d.type}${range}): ${d.description}`;
    })
    .join('\n');
}

/** The system message that opens every interview. */
export function interviewPrompt(): string {
  return [
    "You are the platform's setup assistant. Interview the operator, one short question at a time,",
    'about how the platform should run, then propose a configuration. Only these settings exist:',
    describeLiveSettings(),
    'When you have enough answers, propose the configuration as one JSON object in a ```json block,',
    'its keys exactly the setting names above, e.g. {"model.temperature": 0.3}. Propose only settings',
    'the operator asked to change. If a proposal is refused you will be told why: correct it.',
  ].join('\n');
}

/** The JSON text of a proposal in an answer: its last ```json block, else the whole answer if it is an object. */
function proposalText(answer: string): string | undefined {
  const blocks = [...answer.matchAll(/```json\s*([\s\S]*?)```/gi)];
  if (blocks.length) return blocks.at(-1)![1];
  const whole = answer.trim();
  return whole.startsWith('{') && whole.endsWith('}') ? whole : undefined;
}

/** The proposal in an assistant answer, checked; undefined when the answer proposes nothing. */
export function readProposal(answer: string): Proposal | undefined {
  const text = proposalText(answer);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { valid: false, errors: [`the proposal is not valid JSON (${(error as Error).message})`] };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { valid: false, errors: ['the proposal must be a JSON object of settings'] };
  const pairs = flattenSettings(json as Record<string, unknown>);
  if (!pairs.length) return { valid: false, errors: ['the proposal names no setting'] };
  if (pairs.length > MAX_PROPOSED_SETTINGS)
    return { valid: false, errors: [`the proposal names more than ${MAX_PROPOSED_SETTINGS} settings`] };
  const settings = new Map<string, SettingValue>();
  const errors: string[] = [];
  for (const [key, value] of pairs) {
    const checked = parseSetting(key, value);
    if ('error' in checked) errors.push(checked.error);
    else settings.set(key, checked.value);
  }
  return errors.length ? { valid: false, errors } : { valid: true, settings };
}

/** What the LLM is told after a refused proposal, so the next answer can correct it. */
export const refusalNote = (errors: string[]) =>
  `The proposed configuration was refused: ${errors.join('; ')}. Correct it and propose again.`;
