/** GraphQL over HTTP to this router, with the caller's credential; reads the rate-limit headers. */

export interface Budget {
  limit: number;
  remaining: number;
  resetSeconds: number;
  at: number;
}

export interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

type BudgetListener = (budget: Budget) => void;

export class Api {
  private readonly listeners: BudgetListener[] = [];

  /** `credential` is read on each request: a renewed access token is used at once. */
  constructor(private readonly credential: () => string | undefined = () => undefined) {}

  /** Called with the caller's budget after every answer that carries one. */
  onBudget(listener: BudgetListener): void {
    this.listeners.push(listener);
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    const credential = this.credential();
    if (credential) headers.authorization = `Bearer ${credential}`;
    const response = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    this.readBudget(response.headers);
    const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: GraphQLError[] };
    if (body.errors?.length)
      throw new ApiError(body.errors.map((e) => e.message).join('; '), body.errors[0].extensions?.code);
    if (!response.ok || !body.data) throw new ApiError(`HTTP ${response.status}`);
    return body.data;
  }

  async health(): Promise<unknown> {
    const response = await fetch('/health');
    return response.json();
  }

  private readBudget(headers: Headers): void {
    const limit = headers.get('x-ratelimit-limit');
    if (limit === null) return;
    const budget: Budget = {
      limit: Number(limit),
      remaining: Number(headers.get('x-ratelimit-remaining')),
      resetSeconds: Number(headers.get('x-ratelimit-reset')),
      at: Date.now(),
    };
    for (const listener of this.listeners) listener(budget);
  }
}
