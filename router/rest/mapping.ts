/**
 * The shared vocabulary of route tables: where a variable comes from (sources), how a REST value
 * becomes a GraphQL one (converters), and how GraphQL values become documented JSON (formatters).
 */
import { ASSET_DECIMALS, MAX_AMOUNT_MINOR } from '../../lib';
import { RestError } from './errors';
import {
  InputError,
  type Converter,
  type JsonSchema,
  type RouteInput,
  type Source,
  type UploadedFile,
} from './types';

// ── Sources ────────────────────────────────────────────────────────────────────────────────────

export const fromPath = (name: string): Source => ({
  in: 'path',
  name,
  read: ({ params }) => params[name],
});

export const fromQuery = (name: string, converter?: Converter, description?: string): Source => ({
  in: 'query',
  name,
  converter,
  description,
  read: ({ query }) => query.get(name) ?? undefined,
});

export const fromBody = (name: string, converter?: Converter, description?: string): Source => ({
  in: 'body',
  name,
  converter,
  description,
  read: ({ body }) => body[name],
});

export const fromHeader = (name: string, converter?: Converter): Source => ({
  in: 'header',
  name,
  converter,
  read: ({ headers }) => headers[name.toLowerCase()],
});

/** A body field the route needs although the operation's input leaves it optional. */
export const required = (source: Source): Source => ({
  ...source,
  description: source.description ? `${source.description} (required)` : 'required',
  read: (input) => {
    const value = source.read(input);
    if (value === undefined || value === null)
      throw new RestError('BAD_USER_INPUT', `${source.name} is required`);
    return value;
  },
});

/** A body field with the default the reference documents, sent upstream when the client leaves it out. */
export const withDefault = (source: Source, value: unknown): Source => ({
  ...source,
  description: `default ${JSON.stringify(value)}`,
  read: (input) => source.read(input) ?? value,
});

/** The first of several names a client may send a body field under; documented as the first. */
export const fromBodyAs = (names: string[]): Source => ({
  ...fromBody(names[0], undefined, `also accepted as ${names.slice(1).join(', ')}`),
  read: ({ body }) => names.map((name) => body[name]).find((value) => value !== undefined),
});

/** A value the dialect implies, e.g. the asset of a dialect that only speaks SOL. */
export const fixed = (value: unknown): Source => ({ in: 'fixed', name: '', read: () => value });

/** A value made from several request parts; `name` is the body field it documents, if any. */
export const derived = (read: (input: RouteInput) => unknown, name = ''): Source => ({
  in: 'derived',
  name,
  read,
});

/** The raw body of a `rawBody` row, base64 (a GraphQL string carries any bytes that way). */
export const rawBodyBase64 = (): Source => ({
  in: 'derived',
  name: '',
  read: ({ raw }) => (raw ?? Buffer.alloc(0)).toString('base64'),
  description: 'the request body as sent, any content type',
});

// ── Converters (REST → GraphQL) ────────────────────────────────────────────────────────────────

const converter = (schema: JsonSchema, convert: (value: unknown) => unknown): Converter => ({
  schema,
  convert,
});

/** An integer from a query string or JSON, within bounds. */
export const integer = (min: number, max: number): Converter =>
  converter({ type: 'integer', minimum: min, maximum: max }, (value) => {
    const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      throw new InputError(`must be an integer from ${min} to ${max}`);
    }
    return number;
  });

/** A number from a query string or JSON, within bounds (a minimum rating). */
export const numberBetween = (min: number, max: number): Converter =>
  converter({ type: 'number', minimum: min, maximum: max }, (value) => {
    const number = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || number < min || number > max) {
      throw new InputError(`must be a number from ${min} to ${max}`);
    }
    return number;
  });

/** One of the dialect's words, turned into the GraphQL value it stands for (an enum value, a list of them). */
export const oneOf = (words: Record<string, unknown>): Converter =>
  converter({ type: 'string', enum: Object.keys(words) }, (value) => {
    if (typeof value !== 'string' || !Object.hasOwn(words, value)) {
      throw new InputError(`must be one of ${Object.keys(words).join(', ')}`);
    }
    return words[value];
  });

/** The files of one multipart field as GraphQL file inputs `{name, contentType, dataBase64}`. */
export const uploadedFiles: Converter = converter(
  { type: 'array', items: { type: 'string', format: 'binary' } },
  (value) => {
    if (!Array.isArray(value)) throw new InputError('must be one or more files');
    return (value as UploadedFile[]).map((file) => ({
      name: file.filename,
      contentType: file.content_type,
      dataBase64: file.data_base64,
    }));
  },
);

/** A list sent as a JSON array or as one comma-separated string ("proxy,orders"). */
export const commaList: Converter = converter(
  {
    anyOf: [
      { type: 'array', items: { type: 'string' } },
      { type: 'string', examples: ['proxy,orders'] },
    ],
  },
  (value) => {
    const items = typeof value === 'string' ? value.split(',') : value;
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
      throw new InputError('must be a list of strings or a comma-separated string');
    }
    return items.map((item) => item.trim()).filter(Boolean);
  },
);

/**
 * An amount of money as the REST edge sends it (a decimal string such as "0.50", or a JSON number)
 * in minor units with `places` decimals, as the GraphQL BigInt string. Never through a float.
 */
export const decimalAmount = (places: number): Converter =>
  converter(
    { type: ['string', 'number'], pattern: `^\\d+(\\.\\d{1,${places}})?$`, examples: ['0.50'] },
    (value) => {
      const text = typeof value === 'number' && Number.isFinite(value) ? numberToDecimal(value) : value;
      const match = typeof text === 'string' ? /^(\d{1,20})(?:\.(\d+))?$/.exec(text.trim()) : null;
      if (!match || (match[2]?.length ?? 0) > places) {
        throw new InputError(`must be a non-negative amount with at most ${places} decimals`);
      }
      const minor = BigInt(match[1] + (match[2] ?? '').padEnd(places, '0'));
      // The business maximum, well inside the bigint column every amount is kept in.
      if (minor > MAX_AMOUNT_MINOR)
        throw new InputError(`must be at most ${minorToDecimal(String(MAX_AMOUNT_MINOR), places)}`);
      return minor.toString();
    },
  );

/** The shortest decimal text of a JSON number (0.1 → "0.1", 1e-7 → "0.0000001"). */
function numberToDecimal(value: number): string {
  const text = String(value);
  return /e/i.test(text) ? value.toFixed(20).replace(/\.?0+$/, '') : text;
}

// ── Formatters (GraphQL → REST) ────────────────────────────────────────────────────────────────

/**
 * Decimals of the assets the dialects speak: the wallet's (USD credits in micro-dollars, USDC 6,
 * SOL 9); anything else is shown in cents.
 */
const DECIMALS: Record<string, number> = { ...ASSET_DECIMALS, ETH: 18 };
export const decimalsOf = (asset: string) => (Object.hasOwn(DECIMALS, asset) ? DECIMALS[asset] : 2);

/** A decimal string of an amount as people write it: "0.50", "0.00171" (at least two decimals). */
export const amountText = (minor: string, asset: string) =>
  minorToDecimal(minor, decimalsOf(asset)).replace(/(\.\d\d\d*?)0+$/, '$1');

/** Minor units (BigInt string) → decimal string with the asset's decimals: "50", USD → "0.50". */
export function minorToDecimal(minor: string, places: number): string {
  const negative = minor.startsWith('-');
  const digits = (negative ? minor.slice(1) : minor).padStart(places + 1, '0');
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return negative ? `-${text}` : text;
}

/** Minor units → a JSON number, for dialects whose documents show money as numbers. */
export const minorToNumber = (minor: string, places: number) => Number(minorToDecimal(minor, places));

/** ISO 8601 → whole seconds since the epoch (Hermes Workspace reads epoch seconds). */
export const epochSeconds = (iso: string | null | undefined) =>
  iso ? Math.floor(Date.parse(iso) / 1000) : null;

/** A GraphQL enum value as a lower-case word: ACTIVE → "active". */
export const lower = (value: string) => value.toLowerCase();
