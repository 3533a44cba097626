import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../../lib';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A JSON Schema fragment, as OpenAPI 3.1 uses them. */
export type JsonSchema = Record<string, unknown>;

/** The parts of a REST request a row may read. */
export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

/** Turns one REST value into its GraphQL form; throws {@link InputError} when it cannot. */
export interface Converter {
  convert(value: unknown): unknown;
  /** The REST value's JSON Schema, for OpenAPI. */
  schema: JsonSchema;
}

/** Thrown by converters: the engine prefixes the REST field's name and answers 400/422. */
export class InputError extends Error {}

/** Where a variable's value comes from. */
export interface Source {
  in: 'path' | 'query' | 'body' | 'header' | 'fixed' | 'derived';
  /** The REST name (path parameter, query parameter, body field or header); empty for fixed values. */
  name: string;
  read(input: RouteInput): unknown;
  converter?: Converter;
  description?: string;
}

type Leaf = string | number | boolean | bigint | readonly unknown[];

/** Dotted paths into an operation's variables, e.g. `id` or `input.title`. */
export type VariablePath<V> = {
  [K in keyof V & string]-?: [NonNullable<V[K]>] extends [Leaf]
    ? K
    : K | `${K}.${VariablePath<NonNullable<V[K]>>}`;
}[keyof V & string];

/** Variable path → source. Data, not code: OpenAPI and error messages are derived from it. */
export type VariableMap<V> = { [P in VariablePath<V>]?: Source };

export interface Connection {
  nodes: unknown[];
  pageInfo?: { endCursor: string | null; hasNextPage: boolean };
  totalCount: number;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface ShapeContext {
  input: RouteInput;
  /** The limit and offset of a paged row. */
  page: Page;
  server: { version: string; uptimeSeconds: number };
}

/** The JSON body and status of an error, in a dialect's documented form. */
export interface Problem {
  status: number;
  /** An `extensions.code` of the GraphQL API, or one of the engine's own (BAD_REQUEST, …). */
  code: string;
  message: string;
  extensions?: Record<string, unknown>;
}

export interface ErrorStyle {
  /** Status of a request the dialect refuses as invalid (BAD_USER_INPUT): 400 or 422. */
  invalidInput: 400 | 422;
  /** Status of a body sent with a content type other than JSON: 415 or 400. */
  wrongContentType: 400 | 415;
  body(problem: Problem): unknown;
}

export interface SseEvent {
  event: string;
  data: unknown;
  /** Only for resumable streams: the client sends it back as Last-Event-ID. */
  id?: string;
}

export type SuccessStatus = 200 | 201 | 204;

export interface RowSpec<D, V> {
  method: Method;
  /** Below the dialect's mount, exactly as documented; `:name` is a path parameter. */
  path: string;
  summary: string;
  /** The named operation from router/rest/operations/*.graphql (generated, typed). */
  operation: TypedDocumentNode<D, V>;
  variables?: VariableMap<V>;
  /** The documented JSON answer; the default is the data itself. */
  shape?: (data: D, context: ShapeContext) => unknown;
  /** The success status, or a choice by the data (AUTX: closing a closed session is 200, else 204). */
  status?: SuccessStatus | ((data: D) => SuccessStatus);
  /** `limit`/`offset` query parameters walked onto the connection's `first`/`after`. */
  paged?: { connection: (data: D) => Connection; defaultLimit?: number };
  /** A subscription answered as Server-Sent Events when the client accepts text/event-stream. */
  stream?: { event: (data: D, context: ShapeContext) => SseEvent | null };
  /** The error format of this row when it differs from the dialect's (002's routes in hermes). */
  errors?: ErrorStyle;
  /** Ungated (health): no credential or identity is forwarded, so a bad one cannot refuse it. */
  public?: boolean;
}

/** A row with its types checked and then erased, so one table holds rows of many operations. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = RowSpec<any, any>;

export const route = <D, V>(row: RowSpec<D, V>): Row => row;

export interface SocketSpec<D, V> {
  /** Below the mount, as documented. */
  path: string;
  summary: string;
  /** The first frame, sent once the subscription is accepted. */
  greeting: unknown;
  /** A subscription; each result becomes one frame. */
  operation: TypedDocumentNode<D, V>;
  variables?: VariableMap<V>;
  frame(data: D): unknown;
  /** The error format of this endpoint when it differs from the dialect's. */
  errors?: ErrorStyle;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Socket = SocketSpec<any, any>;

export const socket = <D, V>(spec: SocketSpec<D, V>): Socket => spec;

export type RestConfig = Pick<
  Config,
  'REST_MOUNT_HERMES' | 'REST_MOUNT_AUTX' | 'REST_MOUNT_X402' | 'REST_SSE_HEARTBEAT_SECONDS'
>;

export interface Dialect {
  name: string;
  title: string;
  /** The reference documents (shared/reference/NNN_…) this dialect implements. */
  references: string[];
  mountSetting: 'REST_MOUNT_HERMES' | 'REST_MOUNT_AUTX' | 'REST_MOUNT_X402';
  /** Path prefixes below the mount that belong to the dialect: unknown routes there are its 404s. */
  owns: string[];
  errors: ErrorStyle;
  /** Sent on every response of the dialect, errors included. */
  headers?: Record<string, string>;
  routes: Row[];
  sockets?: Socket[];
}
