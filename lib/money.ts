import { badInput } from './errors';

/**
 * Money as integer minor units of an asset (bigint), never floats. These helpers are the one place
 * a decimal amount ("12.50", or a JSON number at the REST edge) becomes minor units and back.
 */

/** Decimals of the platform's assets; the wallet's `asset` table is seeded with the same. */
export const ASSET_DECIMALS: Readonly<Record<string, number>> = Object.freeze({ USD: 6, USDC: 6, SOL: 9 });

/** The largest single amount the business accepts: 10^15 minor units (a billion USD in micro-dollars). */
export const MAX_AMOUNT_MINOR = 10n ** 15n;

/** PostgreSQL's bigint; no `max` may exceed it. */
const MAX_BIGINT = 2n ** 63n - 1n;

/** A decimal number with at most 18 decimals places an asset could have. */
const MAX_DECIMALS = 18;

export interface AmountOptions {
  /** Accept zero (default: no; an amount is at least one minor unit). */
  allowZero?: boolean;
  /** Accept negative amounts (default: no). */
  allowNegative?: boolean;
  /** Largest magnitude in minor units (default {@link MAX_AMOUNT_MINOR}; at most the bigint maximum). */
  max?: bigint;
  /** Named in the error, so a client sees which input was refused. */
  field?: string;
}

function checkDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS)
    throw new RangeError(`decimals must be an integer from 0 to ${MAX_DECIMALS}`);
}

/** The plain decimal text of a JSON number; exponent forms (1e-7, 1.5e+21) are spelled out. */
function numberToDecimal(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/i.exec(String(value));
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  const digits = whole + fraction;
  const point = whole.length + exponent; // where the decimal point falls in `digits`
  const padded = point <= 0 ? '0'.repeat(1 - point) + digits : digits.padEnd(point, '0');
  const at = Math.max(point, 1);
  const fractional = padded.slice(at).replace(/0+$/, '');
  return `${sign}${padded.slice(0, at)}${fractional ? '.' + fractional : ''}`;
}

/** Refuses amounts outside the options' bounds; answers the amount. */
function bounded(amount: bigint, options: AmountOptions): bigint {
  const field = options.field ?? 'amount';
  const max = options.max ?? MAX_AMOUNT_MINOR;
  if (max > MAX_BIGINT) throw new RangeError('max must fit a PostgreSQL bigint');
  if (amount < 0n && !options.allowNegative) throw badInput(`${field} must not be negative`, { field });
  if (amount === 0n && !options.allowZero) throw badInput(`${field} must be greater than zero`, { field });
  if (amount > max || -amount > max) throw badInput(`${field} must be at most ${max} minor units`, { field });
  return amount;
}

/**
 * A decimal amount in major units ("12.5", "0.000001", or a JSON number) as minor units of an
 * asset with `decimals` places: "12.5" at 6 decimals is 12500000n. Refuses (BAD_USER_INPUT)
 * anything that is not a plain decimal, fractions below the minor unit, and amounts outside
 * the options' bounds. Numbers beyond 2^53 are refused: they are already rounded; send a string.
 */
export function parseAmount(value: unknown, decimals: number, options: AmountOptions = {}): bigint {
  checkDecimals(decimals);
  const field = options.field ?? 'amount';
  if (typeof value === 'number' && Math.abs(value) > Number.MAX_SAFE_INTEGER)
    throw badInput(`${field} is too large for a JSON number; send it as a string`, { field });
  const text =
    typeof value === 'number' ? numberToDecimal(value) : typeof value === 'string' ? value : undefined;
  // At most 40 digits either side: bounded work before the range check refuses it anyway.
  const match = text === undefined ? null : /^(-?)(\d{1,40})(?:\.(\d{1,40}))?$/.exec(text.trim());
  if (!match) throw badInput(`${field} must be a decimal number such as "12.50"`, { field });
  const [, sign, whole, fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > decimals)
    throw badInput(`${field} has more than ${decimals} decimals (below the smallest unit)`, { field });
  const minor = BigInt(whole + significant.padEnd(decimals, '0'));
  return bounded(sign ? -minor : minor, options);
}

/**
 * Minor units as given to the API (a bigint, or a string or safe integer of digits), bounded like
 * {@link parseAmount}: `checkMinorUnits("1500")` is 1500n, `checkMinorUnits(0n)` is refused.
 */
export function checkMinorUnits(value: unknown, options: AmountOptions = {}): bigint {
  const field = options.field ?? 'amount';
  let amount: bigint;
  if (typeof value === 'bigint') amount = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) amount = BigInt(value);
  else if (typeof value === 'string' && /^-?\d{1,40}$/.test(value)) amount = BigInt(value);
  else throw badInput(`${field} must be a whole number of minor units`, { field });
  return bounded(amount, options);
}

/**
 * Minor units as a decimal string with all of the asset's places: 12500000n at 6 decimals is
 * "12.500000"; with `trim`, trailing zeros (and a bare point) go: "12.5".
 */
export function formatAmount(minor: bigint | string, decimals: number, { trim = false } = {}): string {
  checkDecimals(decimals);
  const amount = BigInt(minor);
  const digits = (amount < 0n ? -amount : amount).toString().padStart(decimals + 1, '0');
  let text = decimals ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  if (trim && decimals) text = text.replace(/\.?0+$/, '');
  return amount < 0n ? `-${text}` : text;
}
