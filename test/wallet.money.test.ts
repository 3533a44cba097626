import fc from 'fast-check';
import { ASSET_DECIMALS, checkMinorUnits, formatAmount, MAX_AMOUNT_MINOR, parseAmount } from '../lib';

const codeOf = (work: () => unknown) => {
  try {
    work();
    return 'OK';
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code ?? String(error);
  }
};

test('decimal strings become minor units of each asset', () => {
  expect(parseAmount('12.5', ASSET_DECIMALS.USD)).toBe(12_500_000n);
  expect(parseAmount('0.000001', ASSET_DECIMALS.USDC)).toBe(1n);
  expect(parseAmount('1', ASSET_DECIMALS.SOL)).toBe(1_000_000_000n);
  expect(parseAmount('1.230000000', 2)).toBe(123n); // trailing zeros are not precision
  expect(parseAmount(' 7 ', 0)).toBe(7n);
  expect(parseAmount('-3.5', 1, { allowNegative: true })).toBe(-35n);
  expect(parseAmount('0', 2, { allowZero: true })).toBe(0n);
});

test('JSON numbers are read by their shortest decimal form, never through float arithmetic', () => {
  expect(parseAmount(0.1, 6)).toBe(100_000n);
  expect(parseAmount(0.29, 2)).toBe(29n); // 0.29 * 100 is 28.999999999999996 in floats
  expect(parseAmount(1e-6, 6)).toBe(1n);
  expect(parseAmount(1.5e-7, 9)).toBe(150n);
  expect(parseAmount(123456789, 0)).toBe(123_456_789n);
});

test.each([
  ['zero', '0'],
  ['a negative amount', '-1'],
  ['a fraction below the minor unit', '0.0000001'],
  ['a number below the minor unit', 1e-7],
  ['NaN', Number.NaN],
  ['infinity', Number.POSITIVE_INFINITY],
  ['a number past 2^53', 2 ** 60],
  ['more than the business maximum', '1000000000.000001'],
  ['more than a bigint', '9'.repeat(30)],
  ['more digits than anyone needs', '1'.repeat(41)],
  ['a non-numeric string', 'ten'],
  ['an exponent in a string', '1e3'],
  ['a hexadecimal string', '0x10'],
  ['a bare point', '.5'],
  ['an empty string', ''],
  ['a NUL', '1\u0000'],
  ['an object', { amount: 1 }],
  ['a bigint', 5n],
  ['null', null],
])('%s is BAD_USER_INPUT', (_name, value) => {
  expect(codeOf(() => parseAmount(value, 6))).toBe('BAD_USER_INPUT');
});

test('minor units given directly are bounded the same way', () => {
  expect(checkMinorUnits('1500')).toBe(1500n);
  expect(checkMinorUnits(MAX_AMOUNT_MINOR)).toBe(MAX_AMOUNT_MINOR);
  for (const value of [0n, -1n, MAX_AMOUNT_MINOR + 1n, '1.5', 'abc', 1.5, Number.NaN, '', undefined])
    expect(codeOf(() => checkMinorUnits(value))).toBe('BAD_USER_INPUT');
  expect(codeOf(() => checkMinorUnits(1n, { max: 2n ** 63n }))).toMatch(/bigint/);
});

test('formatting shows every decimal place, or trims them', () => {
  expect(formatAmount(12_500_000n, 6)).toBe('12.500000');
  expect(formatAmount('12500000', 6, { trim: true })).toBe('12.5');
  expect(formatAmount(5n, 9)).toBe('0.000000005');
  expect(formatAmount(-35n, 1)).toBe('-3.5');
  expect(formatAmount(100n, 2, { trim: true })).toBe('1');
  expect(formatAmount(42n, 0)).toBe('42');
});

test('property: formatting then parsing answers the same minor units, at any decimals', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -MAX_AMOUNT_MINOR, max: MAX_AMOUNT_MINOR }),
      fc.integer({ min: 0, max: 18 }),
      fc.boolean(),
      (minor, decimals, trim) => {
        const text = formatAmount(minor, decimals, { trim });
        expect(parseAmount(text, decimals, { allowNegative: true, allowZero: true })).toBe(minor);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: any string that is not a plain decimal within bounds is refused, never thrown past', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 0, max: 18 }), (text, decimals) => {
      const code = codeOf(() => parseAmount(text, decimals));
      expect(['OK', 'BAD_USER_INPUT']).toContain(code);
      if (code === 'OK') expect(text.trim()).toMatch(/^\d+(\.\d+)?$/);
    }),
    { numRuns: 2000 },
  );
});
