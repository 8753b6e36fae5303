import { describe, expect, it, vi } from "vitest";
import { ApiClient, withQuery } from "./client";
import { endpoints } from "./endpoints";
import { ApiError } from "./errors";
import { SessionTokens } from "./session";

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function setup(handler: Handler, signedIn = true) {
  const tokens = new SessionTokens();
  if (signedIn) tokens.set({ access_token: "a1", refresh_token: "r1", expires_in: 900, organization_id: "o" });
  const calls: { url: string; init: RequestInit }[] = [];
  const onSessionExpired = vi.fn();
  const client = new ApiClient({
    apiBase: "",
    tokens,
    onSessionExpired,
    timeoutMs: 200,
    fetch: async (input, init = {}) => {
      calls.push({ url: String(input), init });
      return handler(String(input), init);
    },
  });
  return { client, tokens, calls, onSessionExpired };
}

const auth = (init: RequestInit) => (init.headers as Record<string, string>).authorization;

describe("ApiClient", () => {
  it("sends the access token and parses JSON", async () => {
    const { client, calls } = setup(() => json(200, { data: [1] }));
    await expect(client.request("/management/models")).resolves.toEqual({ data: [1] });
    expect(auth(calls[0]?.init ?? {})).toBe("Bearer a1");
  });

  it("sends an upload as multipart form data, leaving its content-type to the browser", async () => {
    const { client, calls } = setup(() => json(202, { id: "d1", state: "queued" }));
    const file = new File(["hello"], "notes.txt", { type: "text/plain" });
    await expect(endpoints(client).uploadDocument("kb 1", file, "Notes")).resolves.toMatchObject({ state: "queued" });
    const call = calls[0];
    expect(call?.url).toBe("/management/knowledge-bases/kb%201/documents");
    expect(call?.init.method).toBe("POST");
    expect((call?.init.headers as Record<string, string>)["content-type"]).toBeUndefined();
    const form = call?.init.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect((form.get("file") as File).name).toBe("notes.txt");
    expect(form.get("title")).toBe("Notes");
  });

  it("refreshes an expired access token once and retries the call", async () => {
    const { client, tokens, calls } = setup((url, init) => {
      if (url === "/auth/refresh") return json(200, { access_token: "a2", refresh_token: "r2", expires_in: 900, organization_id: "o" });
      return auth(init) === "Bearer a2" ? json(200, { ok: true }) : json(401, { error: { message: "expired", code: "unauthenticated" } });
    });
    await expect(client.request("/auth/me")).resolves.toEqual({ ok: true });
    expect(calls.map((c) => c.url)).toEqual(["/auth/me", "/auth/refresh", "/auth/me"]);
    expect(JSON.parse(String(calls[1]?.init.body))).toEqual({ refresh_token: "r1" });
    expect(tokens.accessToken).toBe("a2");
    expect(tokens.refreshToken).toBe("r2");
  });

  it("refreshes with the HttpOnly cookie and the CSRF header when it holds no refresh token", async () => {
    const { client, tokens, calls } = setup((url, init) => {
      if (url === "/auth/refresh") return json(200, { access_token: "a2", refresh_token: null, expires_in: 900, organization_id: "o" });
      return auth(init) === "Bearer a2" ? json(200, { ok: true }) : json(401, {});
    }, false);
    tokens.set({ access_token: "a1", refresh_token: null, expires_in: 900, organization_id: "o" });
    await expect(client.request("/auth/me")).resolves.toEqual({ ok: true });
    const refresh = calls[1]?.init;
    expect(refresh?.body).toBeUndefined();
    expect((refresh?.headers as Record<string, string>)["x-inferia-csrf"]).toBe("1");
    expect(tokens.refreshToken).toBeNull();
  });

  it("shares one refresh between concurrent calls (a second would count as reuse)", async () => {
    let refreshes = 0;
    const { client } = setup(async (url, init) => {
      if (url === "/auth/refresh") {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return json(200, { access_token: "a2", refresh_token: "r2", expires_in: 900, organization_id: "o" });
      }
      return auth(init) === "Bearer a2" ? json(200, {}) : json(401, {});
    });
    await Promise.all([client.request("/a"), client.request("/b"), client.request("/c")]);
    expect(refreshes).toBe(1);
  });

  it("ends the session when the refresh is refused", async () => {
    const { client, tokens, onSessionExpired } = setup((url) =>
      url === "/auth/refresh" ? json(401, { error: { message: "reused" } }) : json(401, { error: { message: "expired" } }),
    );
    await expect(client.request("/auth/me")).rejects.toMatchObject({ status: 401 });
    expect(onSessionExpired).toHaveBeenCalledOnce();
    expect(tokens.accessToken).toBeNull();
  });

  it("never refreshes for anonymous calls such as a wrong password", async () => {
    const { client, calls, onSessionExpired } = setup(() => json(401, { error: { message: "invalid e-mail, password or code" } }));
    await expect(client.request("/auth/login", { method: "POST", body: {}, anonymous: true })).rejects.toBeInstanceOf(ApiError);
    expect(calls).toHaveLength(1);
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("turns the error envelope into an ApiError with code, param and retry-after", async () => {
    const { client } = setup(() =>
      json(429, { error: { message: "rpm = 1 of api key", code: "rate_limited", param: "rpm" } }, { "retry-after": "3" }),
    );
    const error = (await client.request("/x").catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ kind: "http", status: 429, code: "rate_limited", param: "rpm", retryAfterS: 3 });
  });

  it("reports an unreachable server and a slow one as network and timeout errors", async () => {
    const down = setup(() => Promise.reject(new TypeError("Failed to fetch")));
    await expect(down.client.request("/x")).rejects.toMatchObject({ kind: "network" });
    const slow = setup((_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted")))));
    await expect(slow.client.request("/x")).rejects.toMatchObject({ kind: "timeout" });
  });

  it("builds query strings without empty values", () => {
    expect(withQuery("/audit/logs", { action: "api_key.*", actor: "", cursor: null, limit: 50 })).toBe("/audit/logs?action=api_key.*&limit=50");
  });
});

describe("endpoints", () => {
  it("sends the TOTP code with an invitation only when there is one", async () => {
    const { client, calls } = setup(() => json(200, { email: "a@b.c", created_account: false }), false);
    const api = endpoints(client);
    await api.acceptInvite("t", "password-123456");
    await api.acceptInvite("t", "password-123456", "123456");
    expect(calls.map((c) => JSON.parse(String(c.init.body)) as unknown)).toEqual([
      { token: "t", password: "password-123456" },
      { token: "t", password: "password-123456", totp: "123456" },
    ]);
  });

  it("calls the control plane's routes with escaped ids", async () => {
    const { client, calls } = setup(() => new Response(null, { status: 204 }));
    const api = endpoints(client);
    await api.pools("org/1");
    await api.deleteRegisteredModel("m", "1.0+cpu");
    await api.scaleDeployment("d1", 2);
    expect(calls.map((c) => `${c.init.method ?? "GET"} ${c.url}`)).toEqual([
      "GET /deployment/listPools/org%2F1",
      "DELETE /deployment/deleteModel/m/1.0%2Bcpu",
      "POST /deployment/scale/d1",
    ]);
    expect(JSON.parse(String(calls[2]?.init.body))).toEqual({ replicas: 2 });
  });
});

describe("streamed calls", () => {
  it("refreshes once, then hands over the body as a stream; an error is an ApiError", async () => {
    let first = true;
    const { client, calls } = setup((url) => {
      if (url === "/auth/refresh") return json(200, { access_token: "a2", refresh_token: "r2", expires_in: 900, organization_id: "o" });
      if (first) {
        first = false;
        return json(401, { error: { message: "expired", code: "unauthenticated" } });
      }
      return new Response("line 1\nline 2\n", { status: 200, headers: { "content-type": "text/plain" } });
    });
    const response = await client.stream("/deployment/logs/d1", { query: { follow: true } });
    expect(await response.text()).toBe("line 1\nline 2\n");
    expect(calls.map((c) => c.url)).toEqual(["/deployment/logs/d1?follow=true", "/auth/refresh", "/deployment/logs/d1?follow=true"]);

    const failing = setup(() => json(404, { error: { message: "deployment not found" } }));
    await expect(failing.client.stream("/deployment/logs/x")).rejects.toMatchObject({ status: 404 });
  });

  it("ends the call when the caller aborts", async () => {
    const { client } = setup(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    const controller = new AbortController();
    const call = client.stream("/deployment/logs/d1", { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });
});
