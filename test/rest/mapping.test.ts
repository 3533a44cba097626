/** The shared conversions of the route tables: money never passes through a float. */
import {
  commaList,
  decimalAmount,
  epochSeconds,
  integer,
  lower,
  minorToDecimal,
  minorToNumber,
  oneOf,
} from '../../router/rest/mapping';
import { InputError } from '../../router/rest/types';

test.each([
  ['0.50', 2, '50'],
  [0.5, 2, '50'],
  [0.1, 2, '10'],
  ['19.99', 2, '1999'],
  [19.99, 2, '1999'],
  ['7', 2, '700'],
  [1e-7, 9, '100'],
  ['0.000000001', 9, '1'],
  ['10000000000000.00', 2, '1000000000000000'],
])('decimalAmount(%p, %i decimals) is %s minor units', (value, places, minor) => {
  expect(decimalAmount(places).convert(value)).toBe(minor);
});

test.each([
  ['1.234'],
  ['-1'],
  ['abc'],
  [''],
  [Number.NaN],
  [Infinity],
  [true],
  [{}],
  ['1e3'],
  [1e21],
  // Past the business maximum of 10^15 minor units, long before a bigint column overflows.
  ['10000000000000.01'],
  ['99999999999999999999'],
])('decimalAmount refuses %p', (value) => {
  expect(() => decimalAmount(2).convert(value)).toThrow(InputError);
});

test('minor units back to decimal strings and numbers', () => {
  expect(minorToDecimal('5', 2)).toBe('0.05');
  expect(minorToDecimal('1999', 2)).toBe('19.99');
  expect(minorToDecimal('-150', 2)).toBe('-1.50');
  expect(minorToDecimal('0', 9)).toBe('0.000000000');
  expect(minorToDecimal('42', 0)).toBe('42');
  expect(minorToNumber('100000000', 9)).toBe(0.1);
});

test('integers, words and lists from query strings and bodies', () => {
  expect(integer(1, 100).convert('25')).toBe(25);
  expect(() => integer(1, 100).convert('0')).toThrow('from 1 to 100');
  expect(() => integer(1, 100).convert('2.5')).toThrow(InputError);
  expect(oneOf({ Open: 'OPEN' }).convert('Open')).toBe('OPEN');
  expect(() => oneOf({ Open: 'OPEN' }).convert('toString')).toThrow('must be one of Open');
  expect(commaList.convert('proxy, orders,')).toEqual(['proxy', 'orders']);
  expect(commaList.convert(['agents'])).toEqual(['agents']);
  expect(() => commaList.convert([1])).toThrow(InputError);
});

test('enum values as words', () => {
  expect(lower('ACTIVE')).toBe('active');
});

test('epoch seconds', () => {
  expect(epochSeconds('2026-04-17T10:00:00.900Z')).toBe(1776420000);
  expect(epochSeconds(null)).toBeNull();
});
