/** The session's tokens, in memory only: never localStorage or sessionStorage, so
 * a script injected into the page later finds nothing persisted to steal. The
 * dashboard logs in in cookie mode: its refresh token is an HttpOnly cookie no script
 * can read, and `refresh` stays null; API clients that get it in the body keep it here. */

export interface TokenPair {
  access_token: string;
  refresh_token?: string | null;
  expires_in: number;
  organization_id: string;
}

type Listener = () => void;

export class SessionTokens {
  private access: string | null = null;
  private refresh: string | null = null;
  private listeners = new Set<Listener>();

  get accessToken(): string | null {
    return this.access;
  }

  get refreshToken(): string | null {
    return this.refresh;
  }

  set(pair: TokenPair): void {
    this.access = pair.access_token;
    // In cookie mode the server keeps the refresh token in an HttpOnly cookie.
    this.refresh = pair.refresh_token ?? null;
    this.emit();
  }

  clear(): void {
    this.access = null;
    this.refresh = null;
    this.emit();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
