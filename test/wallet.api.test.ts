import { createPeers, newId, signIdentity, type Peers } from '../lib';
import {
  GrantCreditsDocument,
  LedgerBalancesDocument,
  LedgerEntriesDocument,
  SystemAccountsDocument,
  TransferDocument,
  WalletBalancesDocument,
  WalletEventsDocument,
} from './generated/graphql';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe } from './support/subscriptions';
import { errorOf, registerAdmin } from './tasks.support';

let t: TestPlatform;
let admin: Client;
let alice: User;
let bob: User;
let wallet: Peers;
let walletUrl: string;
beforeAll(async () => {
  t = await startTestPlatform();
  admin = await registerAdmin(t);
  [alice, bob] = [await t.register('Alice'), await t.register('Bob')];
  walletUrl = t.platform.subgraphs.find((subgraph) => subgraph.name === 'wallet')!.url;
  wallet = createPeers('tasks', { wallet: walletUrl }, t.secrets.internal);
});
afterAll(() => t.close());

const HOLD = `mutation ($input: LedgerHoldInput!) { ledgerHold(input: $input) { id kind amountMinor } }`;
const POST = `mutation ($input: LedgerResolveInput!) { ledgerPost(input: $input) { id kind amountMinor } }`;

const grant = (accountId: string, amountMinor: string, id = newId('grant')) =>
  admin.data(GrantCreditsDocument, { input: { id, accountId, asset: 'USD', amountMinor } });

const hold = (from: string, amountMinor: string, id = newId('hold')) =>
  wallet.request<{ ledgerHold: { id: string } }>('wallet', HOLD, {
    input: { id, from: { accountId: from }, to: { system: 'ESCROW' }, asset: 'USD', amountMinor },
  });

test('the internal mutations are not in the public API, and the subgraph refuses them to accounts', async () => {
  const response = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.credential}` },
    body: JSON.stringify({ query: HOLD, variables: { input: {} } }),
  });
  const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
  expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');

  // Straight at the subgraph with an account's signed identity: FORBIDDEN, for every one of them.
  const asAlice = createPeers('tasks', { wallet: walletUrl }, t.secrets.internal);
  const identity = signIdentity(
    { accountId: alice.id, role: 'USER', scopes: ['*'], via: 'jwt' },
    t.secrets.internal,
  );
  const move = {
    id: newId('x'),
    from: { accountId: bob.id },
    to: { accountId: alice.id },
    asset: 'USD',
    amountMinor: '1',
  };
  const calls: [string, string, Record<string, unknown>][] = [
    ['ledgerTransfer', 'LedgerTransferInput', move],
    ['ledgerHold', 'LedgerHoldInput', move],
    ['ledgerPost', 'LedgerResolveInput', { id: newId('x'), pendingId: 'some-hold' }],
    ['ledgerVoid', 'LedgerResolveInput', { id: newId('x'), pendingId: 'some-hold' }],
  ];
  for (const [mutation, type, input] of calls) {
    const refused = asAlice.request(
      'wallet',
      `mutation ($input: ${type}!) { ${mutation}(input: $input) { id } }`,
      {
        input,
      },
      { identity },
    );
    await expect(refused).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  }
});

test('grantCredits is for admins; balances, history and transfers are the caller’s own', async () => {
  const refused = await alice.request(GrantCreditsDocument, {
    input: { id: newId('grant'), accountId: alice.id, asset: 'USD', amountMinor: '5' },
  });
  expect(errorOf(refused).code).toBe('FORBIDDEN');

  const granted = (await grant(alice.id, '1000000')).grantCredits;
  const held = (await hold(alice.id, '250000')).ledgerHold;
  await wallet.request('wallet', POST, {
    input: { id: newId('post'), pendingId: held.id, amountMinor: '100000' },
  });

  const { walletBalances } = await alice.data(WalletBalancesDocument, {});
  expect(walletBalances.find((balance) => balance.asset === 'USD')).toMatchObject({
    decimals: 6,
    availableMinor: '900000',
    postedMinor: '900000',
    pendingDebitsMinor: '0',
  });
  expect(walletBalances.map((balance) => balance.asset)).toEqual(['SOL', 'USD', 'USDC']);
  // The REST dialects read balanceMinor from ledgerAccounts: it is the available balance.
  const { ledgerAccounts } = await alice.data(LedgerBalancesDocument, {});
  expect(ledgerAccounts.nodes).toEqual([expect.objectContaining({ asset: 'USD', balanceMinor: '900000' })]);

  const history = await alice.data(LedgerEntriesDocument, { first: 2 });
  expect(history.ledgerEntries.totalCount).toBe(3); // grant, hold, post
  expect(history.ledgerEntries.nodes.map((entry) => entry.kind)).toEqual(['POST', 'PENDING']);
  expect(history.ledgerEntries.nodes[0]).toMatchObject({ postedDelta: '-100000', pendingDelta: '250000' });
  const rest = await alice.data(LedgerEntriesDocument, {
    first: 2,
    after: history.ledgerEntries.pageInfo.endCursor,
  });
  expect(rest.ledgerEntries.nodes).toEqual([
    expect.objectContaining({ kind: 'SINGLE', postedAfter: '1000000' }),
  ]);
  const posts = await alice.data(LedgerEntriesDocument, { kinds: ['POST'] });
  expect(posts.ledgerEntries.totalCount).toBe(1);
  const future = await alice.data(LedgerEntriesDocument, {
    since: new Date(Date.now() + 60_000).toISOString(),
  });
  expect(future.ledgerEntries.totalCount).toBe(0);

  const { transfer } = await alice.data(TransferDocument, { id: held.id });
  expect(transfer).toMatchObject({ kind: 'PENDING', amountMinor: '250000', resolvedBy: { kind: 'POST' } });
  expect(errorOf(await bob.request(TransferDocument, { id: granted.id })).code).toBe('NOT_FOUND');
  expect((await bob.data(LedgerEntriesDocument, {})).ledgerEntries.totalCount).toBe(0);

  expect(errorOf(await alice.request(SystemAccountsDocument, {})).code).toBe('FORBIDDEN');
  const { systemAccounts } = await admin.data(SystemAccountsDocument, { role: 'ESCROW', asset: 'USD' });
  expect(systemAccounts).toEqual([
    expect.objectContaining({ systemRole: 'ESCROW', kind: 'SYSTEM', balanceMinor: '100000', owner: null }),
  ]);
});

test('a replayed grant answers the first transfer; other content under its id is CONFLICT', async () => {
  const id = newId('grant');
  const first = (await grant(bob.id, '10', id)).grantCredits;
  expect((await grant(bob.id, '10', id)).grantCredits).toEqual(first);
  const other = await admin.request(GrantCreditsDocument, {
    input: { id, accountId: bob.id, asset: 'USD', amountMinor: '11' },
  });
  expect(errorOf(other).code).toBe('CONFLICT');
});

test('a hold beyond the available balance is PAYMENT_REQUIRED', async () => {
  const carol = await t.register('Carol');
  await grant(carol.id, '100');
  await expect(hold(carol.id, '101')).rejects.toMatchObject({ extensions: { code: 'PAYMENT_REQUIRED' } });
});

test('walletEvents delivers the caller’s own balance changes, after commit', async () => {
  const dave = await t.register('Dave');
  const events = subscribe('graphql-ws', t.graphqlUrl, WalletEventsDocument, {}, dave.credential);
  try {
    const first = await firstEventAfter(events, () => grant(dave.id, '7'));
    expect(first.walletEvents).toMatchObject({
      kind: 'SINGLE',
      side: 'CREDIT',
      asset: 'USD',
      postedDelta: '7',
    });
    await grant(alice.id, '1'); // someone else's change: not delivered
    const held = (await hold(dave.id, '5')).ledgerHold;
    let event = (await events.next()).walletEvents;
    while (event.kind === 'SINGLE') event = (await events.next()).walletEvents; // later warm-up grants
    expect(event).toMatchObject({ transferId: held.id, kind: 'PENDING', side: 'DEBIT', pendingDelta: '-5' });
  } finally {
    await events.close();
  }
});
