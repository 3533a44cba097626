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

/** The same windows counted in Redis, so every router sharing it shares one count per caller. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly limit: number,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  }

  async hit(key: string): Promise<RateLimitResult> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const redisKey = `agentry:ratelimit:${window}:${key}`;
    const [[, count]] = (await this.redis
      .multi()
      .incr(redisKey)
      .pexpire(redisKey, WINDOW_MS * 2)
      .exec()) as [[Error | null, number], unknown];
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
