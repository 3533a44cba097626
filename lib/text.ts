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
 * Where the first unsafe string (a value or a key) sits in a JSON value, as a dotted path under
 * `path`; undefined when every string is safe.
 */
export function unsafeTextPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return isUnsafeText(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return path;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unsafeTextPath(item, `${path}.${index}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (isUnsafeText(key)) return at.replace(LONE_SURROGATES, '\ufffd').replaceAll('\u0000', '\ufffd');
    const found = unsafeTextPath(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export const UNSAFE_TEXT_MESSAGE = 'contains a NUL character or an unpaired UTF-16 surrogate';

/** `text` as a literal inside a LIKE / ILIKE pattern (with the default `\\` escape). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
