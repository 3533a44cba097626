import { GraphQLScalarType, Kind } from 'graphql';

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
    if (typeof value === 'string' && /^-?\d{1,30}$/.test(value)) return BigInt(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    throw new TypeError('BigInt must be an integer or a string of digits');
  },
  parseLiteral(ast) {
    if ((ast.kind === Kind.STRING || ast.kind === Kind.INT) && /^-?\d{1,30}$/.test(ast.value)) {
      return BigInt(ast.value);
    }
    throw new TypeError('BigInt must be an integer or a string of digits');
  },
});
