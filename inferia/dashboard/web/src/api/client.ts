/** The one HTTP client of the dashboard: JSON in and out, the session's access token,
 * a silent refresh when it expired, timeouts, and every failure as an ApiError. */

import { ApiError, errorFromResponse } from "./errors";
import type { SessionTokens, TokenPair } from "./session";

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** JSON, or a FormData sent as multipart/form-data (an upload). */
  body?: unknown;
  query?: Query;
  /** Calls that must not trigger a refresh (login, the refresh itself). */
  anonymous?: boolean;
  headers?: Record<string, string>;
  /** Time to the response's headers; a streamed body may take longer. */
  timeoutMs?: number;
  /** Ends the call (and a streamed body) when the caller no longer needs it. */
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Where the policy plane's APIs are: "" = this origin (one-process mode). */
  apiBase: string;
  tokens: SessionTokens;
  fetch?: typeof fetch;
  /** Called once when the session cannot be refreshed any more. */
  onSessionExpired?: () => void;
  timeoutMs?: number;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class ApiClient {
  private refreshing: Promise<boolean> | null = null;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  get tokens(): SessionTokens {
    return this.options.tokens;
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const first = await this.send(path, options);
    if (first.status === 401 && !options.anonymous && (await this.refreshOnce())) {
      return this.parse<T>(await this.send(path, options));
    }
    if (first.status === 401 && !options.anonymous) {
      this.expire();
    }
    return this.parse<T>(first);
  }

  /** A call whose body is read as a stream (a log that follows): the response once its
   * status is OK, after the same silent refresh as request(); an ApiError otherwise. */
  async stream(path: string, options: RequestOptions = {}): Promise<Response> {
    let response = await this.send(path, options);
    if (response.status === 401 && (await this.refreshOnce())) response = await this.send(path, options);
    else if (response.status === 401) this.expire();
    if (!response.ok) return this.parse<never>(response);
    return response;
  }

  /** Exchanges the refresh token for a new pair; concurrent callers share one call
   * (the server treats two refreshes with one token as reuse and ends the session). */
  refreshOnce(): Promise<boolean> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<boolean> {
    const inMemory = this.options.tokens.refreshToken;
    try {
      // Browsers keep the refresh token in the HttpOnly cookie the login set; the
      // custom header is the server's CSRF check (a cross-site page cannot send it).
      const response = await this.send("/auth/refresh", {
        method: "POST",
        body: inMemory ? { refresh_token: inMemory } : undefined,
        headers: inMemory ? {} : { "x-inferia-csrf": "1" },
        anonymous: true,
      });
      if (!response.ok) return false;
      this.options.tokens.set((await response.json()) as TokenPair);
      return true;
    } catch {
      return false;
    }
  }

  private expire(): void {
    this.options.tokens.clear();
    this.options.onSessionExpired?.();
  }

  private async send(path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const token = this.options.tokens.accessToken;
    if (token && !options.anonymous) headers.authorization = `Bearer ${token}`;
    let body: string | FormData | undefined;
    if (options.body instanceof FormData) {
      // The browser writes the multipart content-type with its boundary.
      body = options.body;
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 15_000;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const cancel = () => controller.abort();
    options.signal?.addEventListener("abort", cancel, { once: true });
    try {
      return await this.fetchImpl(this.options.apiBase + withQuery(path, options.query), {
        method: options.method ?? "GET",
        headers,
        body,
        signal: controller.signal,
        credentials: "same-origin",
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (controller.signal.aborted) {
        throw new ApiError("timeout", 0, `no answer within ${timeoutMs / 1000} s`);
      }
      throw new ApiError("network", 0, error instanceof Error ? error.message : "network error");
    } finally {
      clearTimeout(timer);
    }
  }

  private async parse<T>(response: Response): Promise<T> {
    const body = await readBody(response);
    if (!response.ok) {
      throw errorFromResponse(response.status, body, response.headers.get("retry-after"));
    }
    return body as T;
  }
}
