import {
  AddTaskDependencyDocument,
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateTaskInFullDocument,
  DeliverTaskDocument,
  TaskDetailsDocument,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type Client, type TestPlatform } from './support/platform';
import { errorOf, taskIn } from './tasks.support';

/** A real marketplace agent: claims name one that exists. */
let AGENT: string;

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
  AGENT = (await createAgent(await t.register('Agent owner'))).id;
});
afterAll(() => t.close());

const dependsOn = async (client: Client, id: string) =>
  (await client.data(TaskDetailsDocument, { id })).task.dependsOn;

test('a subtask can be claimed only once every task it depends on is COMPLETED', async () => {
  const creator = await t.register();
  const [first, second, parent] = [
    await taskIn(creator, 'OPEN'),
    await taskIn(creator, 'OPEN'),
    await taskIn(creator, 'OPEN'),
  ];
  const { createTask } = await creator.data(CreateTaskInFullDocument, {
    input: { title: 'combine', parentTaskId: parent, dependsOn: [first, second, first] },
  });
  expect(createTask).toMatchObject({ parentTaskId: parent, dependsOn: [first, second] });
  const claim = () => creator.request(ClaimTaskDocument, { id: createTask.id, agentId: AGENT });

  const waiting = errorOf(await claim());
  expect(waiting).toMatchObject({ code: 'CONFLICT', status: 'OPEN', transition: 'CLAIM' });
  expect(waiting.message).toBe(
    `task ${createTask.id} is OPEN: it waits for unfinished dependencies: ${[first, second].sort().join(', ')}`,
  );

  await creator.data(ClaimTaskDocument, { id: first, agentId: AGENT });
  await creator.data(DeliverTaskDocument, { id: first, input: { result: 'one' } });
  await creator.data(ConfirmTaskDocument, { id: first });
  await creator.data(ClaimTaskDocument, { id: second, agentId: AGENT });
  await creator.data(DeliverTaskDocument, { id: second, input: { result: 'two' } });
  // Delivered is not done: the creator has not confirmed it yet.
  expect(errorOf(await claim()).message).toMatch(new RegExp(`unfinished dependencies: ${second}$`));

  await creator.data(ConfirmTaskDocument, { id: second });
  expect((await claim()).body.data?.claimTask.status).toBe('ACCEPTED');
});

test('an added dependency that would close a cycle is BAD_USER_INPUT and is not written', async () => {
  const creator = await t.register();
  const a = await taskIn(creator, 'OPEN');
  const b = (await creator.data(CreateTaskInFullDocument, { input: { title: 'b', dependsOn: [a] } }))
    .createTask.id;
  const c = (await creator.data(CreateTaskInFullDocument, { input: { title: 'c', dependsOn: [b] } }))
    .createTask.id;
  const add = (taskId: string, dependency: string) =>
    creator.request(AddTaskDependencyDocument, { taskId, dependsOn: dependency });

  for (const [task, dependency] of [
    [a, a],
    [a, b],
    [a, c],
  ]) {
    const refused = errorOf(await add(task, dependency));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dependsOn' });
    expect(refused.message).toContain('cycle');
  }
  expect(await dependsOn(creator, a)).toEqual([]);

  // A shortcut along an existing path is no cycle, and adding it twice changes nothing.
  expect((await add(c, a)).body.data?.addTaskDependency.dependsOn).toEqual([b, a]);
  expect((await add(c, a)).body.data?.addTaskDependency.dependsOn).toEqual([b, a]);

  // The walk follows edges added later too: c → b → a → d, so d may not depend on c.
  const d = await taskIn(creator, 'OPEN');
  expect((await add(a, d)).body.errors).toBeUndefined();
  expect(errorOf(await add(d, c)).code).toBe('BAD_USER_INPUT');

  const claimed = await taskIn(creator, 'ACCEPTED');
  expect(errorOf(await add(claimed, d))).toMatchObject({ code: 'CONFLICT', status: 'ACCEPTED' });
});

test('of two concurrent edges that would together make a cycle, exactly one is added', async () => {
  const creator = await t.register();
  const pairs = await Promise.all(
    Array.from({ length: 5 }, async () => [await taskIn(creator, 'OPEN'), await taskIn(creator, 'OPEN')]),
  );
  const results = await Promise.all(
    pairs.flatMap(([x, y]) => [
      creator.request(AddTaskDependencyDocument, { taskId: x, dependsOn: y }),
      creator.request(AddTaskDependencyDocument, { taskId: y, dependsOn: x }),
    ]),
  );
  for (let i = 0; i < results.length; i += 2) {
    const [one, other] = [results[i], results[i + 1]];
    const codes = [one, other].map((r) => r.body.errors?.[0].extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['BAD_USER_INPUT', 'OK']);
  }
});
