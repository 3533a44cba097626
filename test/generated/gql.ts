/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation CreateAccount($input: CreateAccountInput!) {\n  createAccount(input: $input) {\n    id\n    email\n    displayName\n    role\n  }\n}": typeof types.CreateAccountDocument,
    "mutation CreateAgent($input: CreateAgentInput!) {\n  createAgent(input: $input) {\n    id\n    name\n    ticker\n    priceMinor\n  }\n}": typeof types.CreateAgentDocument,
    "mutation CreateTask($input: CreateTaskInput!) {\n  createTask(input: $input) {\n    id\n    title\n    status\n    rewardMinor\n  }\n}\n\nmutation ClaimTask($id: ID!, $agentId: ID!) {\n  claimTask(id: $id, agentId: $agentId) {\n    id\n    status\n  }\n}\n\nquery Task($id: ID!) {\n  task(id: $id) {\n    id\n    title\n    status\n  }\n}\n\nquery TasksWithPeople($first: Int!, $after: String) {\n  tasks(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n    nodes {\n      id\n      title\n      rewardMinor\n      creator {\n        id\n        email\n      }\n      agent {\n        id\n        name\n        ticker\n        owner {\n          id\n          displayName\n        }\n      }\n    }\n  }\n}\n\nsubscription TaskEvents($taskId: ID, $agentId: ID, $status: TaskStatus) {\n  taskEvents(taskId: $taskId, agentId: $agentId, status: $status) {\n    kind\n    at\n    task {\n      id\n      title\n      status\n      agent {\n        name\n        ticker\n      }\n    }\n  }\n}": typeof types.CreateTaskDocument,
};
const documents: Documents = {
    "mutation CreateAccount($input: CreateAccountInput!) {\n  createAccount(input: $input) {\n    id\n    email\n    displayName\n    role\n  }\n}": types.CreateAccountDocument,
    "mutation CreateAgent($input: CreateAgentInput!) {\n  createAgent(input: $input) {\n    id\n    name\n    ticker\n    priceMinor\n  }\n}": types.CreateAgentDocument,
    "mutation CreateTask($input: CreateTaskInput!) {\n  createTask(input: $input) {\n    id\n    title\n    status\n    rewardMinor\n  }\n}\n\nmutation ClaimTask($id: ID!, $agentId: ID!) {\n  claimTask(id: $id, agentId: $agentId) {\n    id\n    status\n  }\n}\n\nquery Task($id: ID!) {\n  task(id: $id) {\n    id\n    title\n    status\n  }\n}\n\nquery TasksWithPeople($first: Int!, $after: String) {\n  tasks(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n    nodes {\n      id\n      title\n      rewardMinor\n      creator {\n        id\n        email\n      }\n      agent {\n        id\n        name\n        ticker\n        owner {\n          id\n          displayName\n        }\n      }\n    }\n  }\n}\n\nsubscription TaskEvents($taskId: ID, $agentId: ID, $status: TaskStatus) {\n  taskEvents(taskId: $taskId, agentId: $agentId, status: $status) {\n    kind\n    at\n    task {\n      id\n      title\n      status\n      agent {\n        name\n        ticker\n      }\n    }\n  }\n}": types.CreateTaskDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateAccount($input: CreateAccountInput!) {\n  createAccount(input: $input) {\n    id\n    email\n    displayName\n    role\n  }\n}"): (typeof documents)["mutation CreateAccount($input: CreateAccountInput!) {\n  createAccount(input: $input) {\n    id\n    email\n    displayName\n    role\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateAgent($input: CreateAgentInput!) {\n  createAgent(input: $input) {\n    id\n    name\n    ticker\n    priceMinor\n  }\n}"): (typeof documents)["mutation CreateAgent($input: CreateAgentInput!) {\n  createAgent(input: $input) {\n    id\n    name\n    ticker\n    priceMinor\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateTask($input: CreateTaskInput!) {\n  createTask(input: $input) {\n    id\n    title\n    status\n    rewardMinor\n  }\n}\n\nmutation ClaimTask($id: ID!, $agentId: ID!) {\n  claimTask(id: $id, agentId: $agentId) {\n    id\n    status\n  }\n}\n\nquery Task($id: ID!) {\n  task(id: $id) {\n    id\n    title\n    status\n  }\n}\n\nquery TasksWithPeople($first: Int!, $after: String) {\n  tasks(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n    nodes {\n      id\n      title\n      rewardMinor\n      creator {\n        id\n        email\n      }\n      agent {\n        id\n        name\n        ticker\n        owner {\n          id\n          displayName\n        }\n      }\n    }\n  }\n}\n\nsubscription TaskEvents($taskId: ID, $agentId: ID, $status: TaskStatus) {\n  taskEvents(taskId: $taskId, agentId: $agentId, status: $status) {\n    kind\n    at\n    task {\n      id\n      title\n      status\n      agent {\n        name\n        ticker\n      }\n    }\n  }\n}"): (typeof documents)["mutation CreateTask($input: CreateTaskInput!) {\n  createTask(input: $input) {\n    id\n    title\n    status\n    rewardMinor\n  }\n}\n\nmutation ClaimTask($id: ID!, $agentId: ID!) {\n  claimTask(id: $id, agentId: $agentId) {\n    id\n    status\n  }\n}\n\nquery Task($id: ID!) {\n  task(id: $id) {\n    id\n    title\n    status\n  }\n}\n\nquery TasksWithPeople($first: Int!, $after: String) {\n  tasks(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      endCursor\n      hasNextPage\n    }\n    nodes {\n      id\n      title\n      rewardMinor\n      creator {\n        id\n        email\n      }\n      agent {\n        id\n        name\n        ticker\n        owner {\n          id\n          displayName\n        }\n      }\n    }\n  }\n}\n\nsubscription TaskEvents($taskId: ID, $agentId: ID, $status: TaskStatus) {\n  taskEvents(taskId: $taskId, agentId: $agentId, status: $status) {\n    kind\n    at\n    task {\n      id\n      title\n      status\n      agent {\n        name\n        ticker\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;