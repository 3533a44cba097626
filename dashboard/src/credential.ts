import type { Api } from './api';
import { REFRESH } from './operations';

const STORAGE_KEY = 'agentry.dashboard.credential';

/** An API key, or an access token with the refresh token that renews it. */
export interface Stored {
  token: string;
  refreshToken?: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt?: number;
}

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export const fromAuthPayload = (payload: AuthPayload): Stored => ({
  token: payload.accessToken,
  refreshToken: payload.refreshToken,
  expiresAt: Date.now() + payload.expiresIn * 1000,
});

/** Renewed when this much of the access token's life is left. */
const RENEW_AT_FRACTION_LEFT = 0.2;

/**
 * The caller's credential, kept in this tab's sessionStorage only. A signed-in session's access
 * token lives 15 minutes: it is renewed with the refresh token before it runs out, and `renewed`
 * is called so that the live connection re-admits itself with the new one.
 */
export class Credential {
  private timer?: ReturnType<typeof setTimeout>;

  private constructor(private stored: Stored) {}

  static saved(): Credential | undefined {
    const text = sessionStorage.getItem(STORAGE_KEY);
    if (!text) return undefined;
    try {
      return new Credential(JSON.parse(text) as Stored);
    } catch {
      return undefined;
    }
  }

  static keep(stored: Stored): Credential {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
    return new Credential(stored);
  }

  get token(): string {
    return this.stored.token;
  }

  /** Renews before expiry, again and again; `failed` when the platform refuses the refresh token. */
  keepFresh(api: Api, renewed: () => void, failed: () => void): void {
    const { refreshToken, expiresAt } = this.stored;
    if (!refreshToken || !expiresAt) return;
    const lifeLeft = expiresAt - Date.now();
    const wait = Math.max(0, lifeLeft - (lifeLeft > 0 ? lifeLeft * RENEW_AT_FRACTION_LEFT : 0));
    this.timer = setTimeout(async () => {
      try {
        const { refreshToken: payload } = await api.request<{ refreshToken: AuthPayload }>(REFRESH, {
          refreshToken,
        });
        this.stored = fromAuthPayload(payload);
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.stored));
        renewed();
        this.keepFresh(api, renewed, failed);
      } catch {
        failed();
      }
    }, wait);
  }

  forget(): void {
    clearTimeout(this.timer);
    sessionStorage.removeItem(STORAGE_KEY);
  }
}
