import type { PaymentCredentialKind } from './payments';
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
  /** The body's bytes as sent, for a row with `rawBody` (its `body` is then `{}`). */
  raw?: Buffer;
  /** The one payment credential the request carries (router/rest/payments.ts), if any. */
  payment?: PaymentCredentialKind;
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

/** A dialect as this router serves it: where, and which routes and sockets (002's surfaces). */
export interface ServedDialect {
  name: string;
  title: string;
  mount: string;
  /** `METHOD /path` of each row, below the mount. */
  routes: string[];
  /** Paths of its WebSocket endpoints, below the mount. */
  sockets: string[];
}

export interface ShapeContext {
  input: RouteInput;
  /** The limit and offset of a paged row. */
  page: Page;
  server: { version: string; uptimeSeconds: number; dialects: ServedDialect[] };
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
  /** Response headers a refusal carries besides its body (a payment challenge's terms on a 402). */
  headers?(problem: Problem): Record<string, string> | undefined;
}

export interface SseEvent {
  /** The `event:` line; without one a client reads the default `message` (OpenAI's chunks have none). */
  event?: string;
  /** Written as JSON, or as text when `raw` (OpenAI's closing `[DONE]`). */
  data: unknown;
  raw?: boolean;
  /** Only for resumable streams: the client sends it back as Last-Event-ID. */
  id?: string;
}

/** What a stream row's `event` reads: the request, and the state of this one stream. */
export interface StreamContext<S> extends ShapeContext {
  state: S;
}

/** How a row answers a subscription as Server-Sent Events. */
export interface StreamSpec<D, S> {
  /**
   * Whether the request wants this row; by default, when the client accepts text/event-stream.
   * A path with a streaming and a JSON row for one method answers the JSON row otherwise.
   */
  when?: (input: RouteInput) => boolean;
  /** The state of one stream (e.g. the answer so far), made before its first result. */
  init?: (context: ShapeContext) => S;
  /** The events of one subscription result, in order: one, several or none. */
  event: (data: D, context: StreamContext<S>) => SseEvent | SseEvent[] | null;
  /**
   * Hold the response until the subscription's first result, so a refusal that arrives as that
   * result is an ordinary HTTP error rather than an event of a 200 stream. Only for subscriptions
   * whose first result comes at once (chat's STARTED): a quiet one would hold the client's headers.
   */
  awaitFirst?: boolean;
}

export type SuccessStatus = 200 | 201 | 204;

/** An answer relayed as bytes rather than shaped as JSON (AUTX's proxy). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RowSpec<D, V, S = unknown> {
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
  /** A subscription answered as Server-Sent Events (by default when the client accepts them). */
  stream?: StreamSpec<D, S>;
  /**
   * A result that is a failure although the operation succeeded (a chat turn that ended with an
   * upstream error): answered as this problem, in the row's error format, instead of the shape.
   */
  failure?: (data: D) => Problem | undefined;
  /** The error format of this row when it differs from the dialect's. */
  errors?: ErrorStyle;
  /**
   * What the row answers (200) when its operation refuses NOT_FOUND, for a runtime whose reads of
   * an unknown id answer an empty result (Ironclad's messages of an unknown session).
   */
  notFound?: (input: RouteInput) => unknown;
  /** Ungated (health): no credential or identity is forwarded, so a bad one cannot refuse it. */
  public?: boolean;
  /**
   * A limit of this row's own (x402's task creation: 10 a minute), per credential and per router
   * replica, on top of the edge's general limit; refused as RATE_LIMITED with Retry-After. With
   * `counts`, only the requests it accepts count and can be refused.
   */
  rateLimit?: { perMinute: number; counts?: (input: RouteInput) => boolean };
  /**
   * The body is any content type, not parsed: sources read its bytes as `input.raw` (see
   * `rawBodyBase64`). It is still bounded by the engine's body limit.
   */
  rawBody?: boolean;
  /** Response headers the answer carries besides its body (a settled payment's receipt); undefined ones are left out. */
  headers?: (data: D) => Record<string, string | null | undefined>;
  /** The answer is bytes with their own status and headers (a relay), instead of `shape`'s JSON. */
  raw?: (data: D) => RawAnswer | Promise<RawAnswer>;
  /**
   * The body is multipart/form-data (any other type is refused): each text field is read as a body
   * field, and the files of each field name as a list of {@link UploadedFile} under that name.
   */
  multipart?: boolean;
}

/** A file of a multipart body, as a row's sources read it. */
export interface UploadedFile {
  filename: string;
  content_type: string;
  data_base64: string;
}

/** A row with its types checked and then erased, so one table holds rows of many operations. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = RowSpec<any, any, any>;

export const route = <D, V, S = unknown>(row: RowSpec<D, V, S>): Row => row;

export interface SocketSpec<D, V, S = unknown> {
  /** Below the mount, as documented. */
  path: string;
  summary: string;
  /**
   * The first frame, sent once the subscription is accepted. A dialogue greets with what its
   * `open` returns instead; this is then an example of that frame, for the docs.
   */
  greeting: unknown;
  /** The first frame made per connection (002's carries the version and the time); `greeting` is then its example. */
  hello?: (server: { version: string }) => unknown;
  /** Answered to each text frame the client sends (002's `{"type":"ack"}`); without it client frames are ignored. */
  ack?: unknown;
  /** A subscription; each result becomes one frame (none when `frame` answers null). */
  operation: TypedDocumentNode<D, V>;
  variables?: VariableMap<V>;
  frame(data: D): unknown;
  /** The error format of this endpoint when it differs from the dialect's. */
  errors?: ErrorStyle;
  /** A two-way conversation: the client authenticates in a frame and then sends requests as frames. */
  dialogue?: Dialogue<D, V, S>;
  /**
   * Further subscriptions of the same caller, opened with the main one and sent as frames as their
   * results come (002's /ws pushes session, memory and task changes on one socket).
   */
  feeds?: SocketFeed[];
  /**
   * Without a header credential, the upgrade may carry `?ticket=`: a single-use ticket from the
   * dialect's ticket route (002's `POST /api/ws-ticket`), for browsers, which cannot set headers.
   */
  tickets?: boolean;
}

/** A further subscription of a socket: no variables, each result one frame (none when null). */
export interface SocketFeed<D = never> {
  operation: TypedDocumentNode<D, Record<string, never>>;
  frame(data: D): unknown;
}

export const feed = <D>(spec: SocketFeed<D>): SocketFeed => spec as unknown as SocketFeed;

/** A client frame of a dialogue: a JSON object. */
export type Frame = Record<string, unknown>;

/** What a dialogue's handlers can do on their connection, as the caller its credential names. */
export interface Conversation<D, V, S> {
  /** The upgrade URL's path parameters. */
  params: Record<string, string>;
  /** What `open` returned. */
  state: S;
  /** A query or mutation through the router; its first GraphQL error throws as a RestError. */
  run<RD, RV>(operation: TypedDocumentNode<RD, RV>, variables: RV): Promise<RD>;
  /**
   * Runs the socket's subscription and sends `frame(result)` of each result; resolves with the last
   * result once it completes (undefined when there was none). Ends early when the client leaves.
   */
  stream(variables: V): Promise<D | undefined>;
  send(frame: unknown): void;
}

/**
 * The protocol of a dialogue. The upgrade needs no credential: the first frame carries it, and it
 * is resolved, limited and re-checked per frame exactly as the edge does for a request. One frame is
 * handled at a time; a frame that arrives meanwhile is refused with a `BUSY` problem.
 */
export interface Dialogue<D, V, S> {
  /** The credential in the client's first frame; undefined (not an auth frame) closes with 4401. */
  credential(first: Frame): string | undefined;
  /** Once authenticated: prepares the conversation and greets. A refusal closes the socket (4000 + status). */
  open(conversation: Conversation<D, V, undefined>): Promise<{ state: S; greeting: unknown }>;
  /** Handlers of the later frames by their `type`. A refusal is an error frame; the socket stays open. */
  on: Record<string, (frame: Frame, conversation: Conversation<D, V, S>) => Promise<void>>;
  /** After the client left (its running subscription already cancelled), e.g. to end what `open` began. */
  close?(conversation: Conversation<D, V, S>): Promise<unknown>;
  /** The error frame of a problem. */
  error(problem: Problem): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Socket = SocketSpec<any, any, any>;

export const socket = <D, V, S = unknown>(spec: SocketSpec<D, V, S>): Socket => spec;

export type RestConfig = Pick<
  Config,
  | 'REST_MOUNT_HERMES'
  | 'REST_MOUNT_RUNTIME'
  | 'REST_MOUNT_AUTX'
  | 'REST_MOUNT_X402'
  | 'REST_SSE_HEARTBEAT_SECONDS'
>;

/** 004: "All requests require a valid API key": none is 401, one that does not verify is `invalid`. */
export interface CredentialRule {
  invalid: 'UNAUTHENTICATED' | 'FORBIDDEN';
}

export interface Dialect {
  name: string;
  title: string;
  /** The reference documents (shared/reference/NNN_…) this dialect implements. */
  references: string[];
  mountSetting: 'REST_MOUNT_HERMES' | 'REST_MOUNT_RUNTIME' | 'REST_MOUNT_AUTX' | 'REST_MOUNT_X402';
  /** Path prefixes below the mount that belong to the dialect: unknown routes there are its 404s. */
  owns: string[];
  errors: ErrorStyle;
  /** Every row but the public ones needs a credential, checked before anything runs. */
  credentials?: CredentialRule;
  /** With MPP on, its rows that need a credential may be paid for per request instead (router/rest/mpp.ts). */
  payable?: boolean;
  /** Sent on every response of the dialect, errors included. */
  headers?: Record<string, string>;
  routes: Row[];
  sockets?: Socket[];
  /** Documented routes the router answers itself, not a row (`GET /health`, router/health.ts). */
  routerRoutes?: string[];
}
