/**
 * A circuit breaker per upstream provider, pure apart from the clock it is given: closed until
 * `threshold` consecutive failures, then open (calls refused) for `cooldownMs`, then half-open
 * (one trial call; success closes it, failure opens it again).
 */

export enum BreakerState {
  CLOSED = 'CLOSED',
  OPEN = 'OPEN',
  HALF_OPEN = 'HALF_OPEN',
}

export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;
  lastError: string | null = null;

  constructor(private readonly options: BreakerOptions) {}

  /** New thresholds from the settings store; the count so far and an open state are kept. */
  reconfigure(threshold: number, cooldownMs: number): void {
    this.options.threshold = threshold;
    this.options.cooldownMs = cooldownMs;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get state(): BreakerState {
    if (this.openedAt === null) return BreakerState.CLOSED;
    return this.now() - this.openedAt >= this.options.cooldownMs ? BreakerState.HALF_OPEN : BreakerState.OPEN;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When an open breaker lets a trial call through. */
  get retryAt(): Date | null {
    return this.openedAt === null ? null : new Date(this.openedAt + this.options.cooldownMs);
  }

  /** Whether a call may go now; when half-open, only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === BreakerState.CLOSED) return true;
    if (state === BreakerState.OPEN || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Whether a call could go now, without taking the half-open trial. */
  get allowsCalls(): boolean {
    const state = this.state;
    return state === BreakerState.CLOSED || (state === BreakerState.HALF_OPEN && !this.trialInFlight);
  }

  succeeded(): void {
    this.reset();
  }

  failed(error: string): void {
    this.lastError = error;
    this.trialInFlight = false;
    this.failures++;
    if (this.openedAt !== null || this.failures >= this.options.threshold) this.openedAt = this.now();
  }

  /** A call that ended without a verdict on the provider (cancelled by the client). */
  released(): void {
    this.trialInFlight = false;
  }

  reset(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
    this.lastError = null;
  }
}
