/**
 * Text from outside (clients, WebSocket frames, an upstream LLM) that the platform cannot keep
 * faithfully: PostgreSQL's text and jsonb refuse NUL, and a UTF-16 surrogate without its pair is
 * not Unicode at all (strict JSON parsers and PostgreSQL's jsonb refuse it).
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

export const isUnsafeText = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);

/** Text we must keep although it came unsafe (upstream tokens): NUL and lone surrogates become U+FFFD. */
export const safeText = (text: string): string =>
  text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd');

/** Deep enough for any input we accept; deeper values are refused as unsafe rather than walked. */
const MAX_DEPTH = 64;

/**
 * A JSON value from outside that must be kept (a tool's arguments or answer): each string and key
 * made safe as {@link safeText} does; what lies deeper than any input we accept becomes null.
 */
export function safeJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return safeText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.map((item) => safeJson(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [safeText(key), safeJson(item, depth + 1)]),
  );
}

/**
 * The longest string (or key) an input holds where nothing below says otherwise: above every
 * maximum a resolver checks itself (10 000 characters at most), so their messages still come first,
 * and far below what a request may carry (1 MiB).
 */
export const MAX_TEXT_LENGTH = 16_384;

/**
 * Input fields that carry long text by design, whatever their depth: chat messages, memory and
 * skill contents, order prompts and their files, agent manifests. Only the body limit bounds them
 * at the edge; their resolvers check their own maximum.
 */
const LONG_TEXT_FIELDS = new Set([
  'content',
  'message',
  'messages',
  'prompt',
  'files',
  'dataBase64',
  'data_base64',
  'manifest',
]);

/** What is wrong with a string of an input, and where (a dotted path). */
export interface TextProblem {
  field: string;
  message: string;
}

export const UNSAFE_TEXT_MESSAGE = 'contains a NUL character or an unpaired UTF-16 surrogate';

const printable = (path: string) => path.replace(LONE_SURROGATES, '\ufffd').replaceAll('\u0000', '\ufffd');

function textProblemAt(text: string, path: string, maxLength: number): TextProblem | undefined {
  if (isUnsafeText(text))
    return { field: printable(path), message: `${printable(path)} ${UNSAFE_TEXT_MESSAGE}` };
  if (text.length > maxLength)
    return { field: printable(path), message: `${printable(path)} must be at most ${maxLength} characters` };
  return undefined;
}

/**
 * The first string of a JSON value (a value or a key) that the platform refuses, under `path`:
 * NUL or a lone surrogate anywhere; longer than `maxLength` outside {@link LONG_TEXT_FIELDS}.
 * Undefined when every string is acceptable.
 */
export function inputTextProblem(
  value: unknown,
  path: string,
  maxLength = MAX_TEXT_LENGTH,
  depth = 0,
): TextProblem | undefined {
  if (typeof value === 'string') return textProblemAt(value, path, maxLength);
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return { field: path, message: `${path} is nested too deeply` };
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = inputTextProblem(item, `${path}.${index}`, maxLength, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const keyProblem = textProblemAt(key, at.length > 200 ? `${path}.…` : at, maxLength);
    if (keyProblem) return keyProblem;
    const found = inputTextProblem(
      item,
      at,
      LONG_TEXT_FIELDS.has(key) ? Number.POSITIVE_INFINITY : maxLength,
      depth + 1,
    );
    if (found) return found;
  }
  return undefined;
}

/** `text` as a literal inside a LIKE / ILIKE pattern (with the default `\\` escape). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
