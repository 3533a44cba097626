import { Redis } from 'ioredis';
import type { ServerResponse } from 'node:http';

export interface RateLimitResult {
  limit: number;
  remaining: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
  allowed: boolean;
}

export interface RateLimiter {
  hit(key: string): Promise<RateLimitResult>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

function result(limit: number, count: number, windowStart: number): RateLimitResult {
  return {
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - Date.now()) / 1000)),
    allowed: count <= limit,
  };
}

/** Fixed one-minute windows in this process; enough for a single router. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counts = new Map<string, { window: number; count: number }>();

  constructor(private readonly limit: number) {}

  async hit(key: string): Promise<RateLimitResult> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    let entry = this.counts.get(key);
    if (!entry || entry.window !== window) {
      if (this.counts.size > 100_000)
        for (const [k, v] of this.counts) if (v.window !== window) this.counts.delete(k);
      entry = { window, count: 0 };
      this.counts.set(key, entry);
    }
    entry.count++;
    return result(this.limit, entry.count, window * WINDOW_MS);
  }

  async close(): Promise<void> {}
}

/** Counts one hit and starts the key's expiry with its first: one command, so it can be pipelined. */
const HIT_SCRIPT = `local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * The same windows counted in Redis, so every router sharing it shares one exact count per caller.
 * The hits of concurrent requests go to Redis together (ioredis auto-pipelining: one round trip
 * per event-loop tick, not one per request), each as a single script call.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis & { rateLimitHit(key: string, ttlMs: number): Promise<number> };

  constructor(
    url: string,
    private readonly limit: number,
  ) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as typeof this.redis;
  }

  async hit(key: string): Promise<RateLimitResult> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const count = await this.redis.rateLimitHit(`agentry:ratelimit:${window}:${key}`, WINDOW_MS * 2);
    return result(this.limit, count, window * WINDOW_MS);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** What AUTX documents (`X-RateLimit-*`) and the IETF fields (`RateLimit-Policy`, `RateLimit`). */
export function writeRateLimitHeaders(res: ServerResponse, limit: RateLimitResult): void {
  res.setHeader('X-RateLimit-Limit', String(limit.limit));
  res.setHeader('X-RateLimit-Remaining', String(limit.remaining));
  res.setHeader('X-RateLimit-Reset', String(limit.resetSeconds));
  res.setHeader('RateLimit-Policy', `"per-caller";q=${limit.limit};w=${WINDOW_MS / 1000}`);
  res.setHeader('RateLimit', `"per-caller";r=${limit.remaining};t=${limit.resetSeconds}`);
  if (!limit.allowed) res.setHeader('Retry-After', String(limit.resetSeconds));
}
