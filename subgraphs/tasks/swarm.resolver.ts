import {
  Arg,
  Ctx,
  Field,
  InputType,
  Int,
  Mutation,
  ObjectType,
  registerEnumType,
  Resolver,
} from 'type-graphql';
import { badInput, RequiresScopes, type SubgraphContext } from '../../lib';
import { Task } from './task.entity';
import { publishTaskEvent } from './task.events';
import { TaskTransition } from './task.machine';
import { MAX_AGENTS, MIN_AGENTS, planSwarm, SwarmStrategy } from './swarm.planner';

registerEnumType(SwarmStrategy, { name: 'SwarmStrategy', description: 'How the subtasks of a swarm wait.' });

const MAX_GOAL = 2000;

@InputType()
export class SwarmTaskInput {
  @Field({ description: `What the swarm should achieve, up to ${MAX_GOAL} characters.` })
  goal!: string;

  @Field(() => SwarmStrategy, { defaultValue: SwarmStrategy.DAG })
  strategy: SwarmStrategy = SwarmStrategy.DAG;

  @Field(() => Int, { defaultValue: 5, description: `The most subtasks, ${MIN_AGENTS} to ${MAX_AGENTS}.` })
  agentCount: number = 5;
}

@ObjectType({ description: 'A goal split into subtasks by the upstream LLM.' })
export class Swarm {
  @Field()
  goal!: string;

  @Field(() => SwarmStrategy)
  strategy!: SwarmStrategy;

  @Field(() => Task, { description: 'The task of the whole goal; every subtask is its child.' })
  parent!: Task;

  @Field(() => [Task], { description: 'In an order where each comes after the tasks it depends on.' })
  subtasks!: Task[];
}

function validateSwarm(input: SwarmTaskInput) {
  const goal = input.goal.trim();
  if (!goal) throw badInput('goal must not be empty', { field: 'goal' });
  if (goal.length > MAX_GOAL)
    throw badInput(`goal must be at most ${MAX_GOAL} characters`, { field: 'goal' });
  if (input.agentCount < MIN_AGENTS || input.agentCount > MAX_AGENTS)
    throw badInput(`agentCount must be ${MIN_AGENTS} to ${MAX_AGENTS}`, { field: 'agentCount' });
  return { goal, strategy: input.strategy, agentCount: input.agentCount };
}

@Resolver(() => Swarm)
export class SwarmResolver {
  @RequiresScopes('tasks')
  @Mutation(() => Swarm, {
    description:
      'Ask the upstream LLM to split a goal into subtasks and post them, with a parent task, in one transaction.',
  })
  async swarmTask(@Arg('input') input: SwarmTaskInput, @Ctx() ctx: SubgraphContext): Promise<Swarm> {
    const { goal, strategy, agentCount } = validateSwarm(input);
    const creatorId = ctx.me().accountId;
    // Planned and checked before anything is written: a bad plan leaves no task behind.
    const plan = await planSwarm(goal, strategy, agentCount);
    const { parent, subtasks } = await ctx.em.transactional(async (em) => {
      const parent = em.create(Task, { title: goal.slice(0, 200), description: goal, creatorId });
      const ids = new Map<string, string>();
      const subtasks = plan.map((step) => {
        const subtask = em.create(Task, {
          title: step.title,
          description: step.description,
          creatorId,
          parentTaskId: parent.id,
          dependsOn: step.dependsOn.map((key) => ids.get(key)!),
        });
        ids.set(step.key, subtask.id);
        return subtask;
      });
      return { parent, subtasks };
    });
    for (const task of [parent, ...subtasks]) await publishTaskEvent(ctx, task, TaskTransition.CREATE, null);
    return { goal, strategy, parent, subtasks };
  }
}
