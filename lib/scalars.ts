import { GraphQLScalarType, Kind } from 'graphql';

const NOT_AN_INTEGER = 'BigInt must be an integer or a string of digits';
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** Digits as a bigint that a PostgreSQL bigint column can hold; anything else is the client's mistake. */
function within64Bits(text: string): bigint {
  // 19 digits is the most a 64-bit integer has; the length check keeps BigInt() cheap.
  if (!/^-?\d{1,20}$/.test(text)) throw new TypeError(NOT_AN_INTEGER);
  const value = BigInt(text);
  if (value < MIN_INT64 || value > MAX_INT64)
    throw new TypeError(`BigInt must be from ${MIN_INT64} to ${MAX_INT64}`);
  return value;
}

/**
 * Integer amounts in minor units (cents, atomic token units). Sent as a decimal string so no
 * client parses money into a float; accepted as a string or an integer literal.
 */
export const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: 'BigInt',
  description: 'An integer of any size, sent as a decimal string (money is always in minor units).',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    throw new TypeError(`BigInt cannot represent ${String(value)}`);
  },
  parseValue(value) {
    if (typeof value === 'string') return within64Bits(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    throw new TypeError(NOT_AN_INTEGER);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return within64Bits(ast.value);
    throw new TypeError(NOT_AN_INTEGER);
  },
});
