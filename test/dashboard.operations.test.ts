/** The dashboard's operations are plain strings in its bundle: each must stay valid against the API. */
import { parse, validate } from 'graphql';
import * as operations from '../dashboard/src/operations';
import { loadApiSchema } from '../router/rest/variables';

const schema = loadApiSchema();

test.each(Object.entries(operations))('%s validates against schema/api.graphql', (_name, source) => {
  expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
});
