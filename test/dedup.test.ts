import { parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { MeDocument } from './generated/graphql';
import { sqlStatements, startTestPlatform, type TestPlatform, type User } from './support/platform';
import { createIdentitySigner } from '../router/identity';
import { useStableDocument } from '../router/stable-document';

describe('in-flight deduplication of upstream fetches', () => {
  let t: TestPlatform;
  let alice: User;
  let bob: User;
  beforeAll(async () => {
    t = await startTestPlatform();
    [alice, bob] = [await t.register('alice'), await t.register('bob')];
  });
  afterAll(() => t.close());

  test('two callers sending the same query at the same time each get their own answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? bob : alice).data(MeDocument)),
    );
    answers.forEach((answer, i) => expect(answer.me?.id).toBe((i % 2 ? bob : alice).id));
  });

  test('one caller sending the same query twenty times at once reaches the subgraph fewer times', async () => {
    const before = await sqlStatements(t, ['accounts']);
    await alice.data(MeDocument);
    const one = (await sqlStatements(t, ['accounts'])) - before;
    expect(one).toBeGreaterThan(0);

    const start = await sqlStatements(t, ['accounts']);
    await Promise.all(Array.from({ length: 20 }, () => alice.data(MeDocument)));
    expect((await sqlStatements(t, ['accounts'])) - start).toBeLessThan(20 * one);
  });
});

describe('the identity signer', () => {
  const identity = { accountId: 'acc_1', role: 'USER' as const, scopes: ['*'], via: 'jwt' as const };

  test('signs one caller once and two callers apart, and reads back only what it signed', () => {
    const sign = createIdentitySigner('s'.repeat(32));
    const token = sign(identity);
    expect(sign({ ...identity })).toBe(token);
    expect(sign({ ...identity, accountId: 'acc_2' })).not.toBe(token);
    expect(sign({ ...identity, scopes: ['tasks'] })).not.toBe(token);
    expect(sign.signedBy(token)).toEqual(identity);
    expect(sign.signedBy(`${token}x`)).toBeUndefined();
  });
});

describe('the stable document', () => {
  const plugin = useStableDocument() as {
    onValidate(payload: { params: { documentAST: DocumentNode } }): void;
    onExecute(payload: { args: { document: DocumentNode } }): void;
  };
  const validated = parse('{ me { id } }');
  plugin.onValidate({ params: { documentAST: validated } });
  const operation = validated.definitions[0] as OperationDefinitionNode;

  test('a copy with the same parts is replaced by the validated document', () => {
    const args = { document: { ...validated, definitions: [{ ...operation }] } };
    plugin.onExecute({ args });
    expect(args.document).toBe(validated);
  });

  test('a copy whose selections changed is kept', () => {
    const changed = { ...operation, selectionSet: { ...operation.selectionSet, selections: [] } };
    const args = { document: { ...validated, definitions: [changed] } };
    plugin.onExecute({ args });
    expect(args.document).not.toBe(validated);
  });
});
