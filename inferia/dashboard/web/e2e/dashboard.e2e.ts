/** The dashboard in Chromium against a real `inferia serve` with a fake upstream.
 * The scenarios run in order and build on each other (one admin, one server). The
 * admin turns 2FA on, and a TOTP step is accepted only once, so the admin signs in
 * with a code once; the re-login scenarios use the invited viewer. */

import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { accessibilityProblems, apiLogin, callApi, dashboard, launch, screenshot, server, totp } from "./support";

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
const VIEWER = { email: "viewer@example.com", password: "viewer password 123" };

let browser: Browser;
let page: Page;
let viewer: Page;
let totpSecret = "";
let apiKey = "";
// One of the admin's recovery codes: signs the API client in (a TOTP step works once).
let recoveryCode = "";
// The admin's API session (recovery codes work once): set by the deployment scenario.
let adminToken = "";

interface DeploymentStatus {
  state: string;
  replicas: { desired: number; ready: number };
  error: string | null;
  events: unknown[];
}

const gateway = (key: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });

async function signIn(target: Page, email: string, password: string, code?: string) {
  await target.getByLabel("E-mail").fill(email);
  await target.getByLabel("Password", { exact: true }).fill(password);
  await target.getByRole("button", { name: "Sign in" }).click();
  if (code) {
    await target.getByLabel("Authentication code").fill(code);
    await target.getByRole("button", { name: "Sign in" }).click();
  }
}

async function nav(target: Page, label: string) {
  await target.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
}

async function organizationOf(token: string): Promise<string> {
  return (await callApi<{ organization_id: string }>("/auth/me", token)).organization_id;
}

const visible = (target: Page, text: string | RegExp) => target.getByText(text).first().waitFor({ state: "visible" });

const unauthenticated = {
  status: 401,
  contentType: "application/json",
  body: '{"error":{"message":"invalid or expired access token","code":"unauthenticated"}}',
};

beforeAll(async () => {
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  // Set-up data through the API, before the admin turns 2FA on: a list of 60 keys.
  const token = await apiLogin(server.adminEmail, server.adminPassword);
  await Promise.all(
    Array.from({ length: 60 }, (_, i) => callApi("/management/api-keys", token, "POST", { name: `bulk-${String(i).padStart(2, "0")}` })),
  );
});

beforeEach((context) => {
  // A failed scenario leaves a picture of the admin's page next to the test's log.
  onTestFailed(async () => {
    if (server.artifacts) await page.screenshot({ path: `${server.artifacts}/failed-${context.task.name.slice(0, 40)}.png` });
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("the dashboard", () => {
  it("refuses a wrong password in words and remembers the page asked for", async () => {
    await page.goto(dashboard("/api-keys"));
    await page.waitForURL(/\/dashboard\/login\?next=%2Fapi-keys/);
    await signIn(page, server.adminEmail, "not the password");
    await visible(page, "Wrong e-mail or password.");
  });

  it("signs in, enrols two-factor authentication, then signs in with TOTP", async () => {
    await signIn(page, server.adminEmail, server.adminPassword);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByRole("link", { name: /admin@example\.com/ }).click();
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    await page.getByRole("img", { name: /QR code/ }).waitFor();
    totpSecret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    expect(totpSecret).toMatch(/^[A-Z2-7]+=*$/);
    await page.getByLabel("Code from the app").fill(totp(totpSecret));
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    expect(await codes.count()).toBeGreaterThan(3);
    recoveryCode = (await codes.last().textContent())?.trim() ?? "";
    await page.getByRole("button", { name: "I have saved them" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Inferia" }).waitFor();

    await signIn(page, server.adminEmail, server.adminPassword, "000000");
    await visible(page, "Wrong e-mail, password or code.");
    // The step after the one enrolment used: an accepted step is never accepted again.
    await page.getByLabel("Authentication code").fill(totp(totpSecret, 1));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });

  it("creates an API key with a hostile name, shows the secret once and renders the name as text", async () => {
    await nav(page, "API keys");
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(HOSTILE);
    await dialog.getByLabel("Allowed models").fill("fake-model, e2e-model");
    await dialog.getByRole("button", { name: "Create key" }).click();
    apiKey = (await dialog.getByTestId("new-key").textContent()) ?? "";
    expect(apiKey).toMatch(/^sk-inf-/);
    await dialog.getByRole("button", { name: "Copy key" }).waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.getByLabel("Filter").fill("window.__pwned");
    await page.getByRole("cell", { name: HOSTILE, exact: true }).waitFor();
    expect(await page.locator("table script, table img").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.content()).not.toContain(apiKey);
    await page.getByLabel("Filter").fill("");

    const reply = await gateway(apiKey).chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }] });
    expect(reply.choices[0]?.message.content).toContain("Hello");
  });

  it("pages through a huge list of keys", async () => {
    await visible(page, "Page 1 of 3");
    expect(await page.locator("tbody tr").count()).toBe(25);
    await page.getByRole("button", { name: "Next" }).click();
    await visible(page, "Page 2 of 3");
    await page.getByLabel("Filter").fill("bulk-59");
    await visible(page, "Page 1 of 1");
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.getByLabel("Filter").fill("");
  });

  it("chats in the playground, streamed, with the guardrail findings and overhead", async () => {
    await nav(page, "Playground");
    await page.getByRole("button", { name: "Create a 1-hour key" }).click();
    await page.getByLabel("Model").selectOption("fake-model");
    await page.getByLabel("Message").fill("Mail me at someone@example.com please");
    await page.getByRole("button", { name: "Send" }).click();
    const reply = page.locator(".message.assistant .content");
    // The fake upstream sends a word every 150 ms: a partial reply shows while the
    // request is still running (the Stop button is there until it ends).
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await expect.poll(async () => (await reply.textContent())?.trim().split(" ").length ?? 0).toBeGreaterThan(1);
    expect(await page.getByRole("button", { name: "Stop" }).isVisible()).toBe(true);
    await page.getByTestId("request-facts").waitFor();
    expect((await reply.textContent())?.trim().split(" ").length).toBeGreaterThanOrEqual(8);
    await visible(page, "Inferia overhead");
    await visible(page, /input: pii \/ email → redact/);
  });

  it("creates a model and sees its requests in usage", async () => {
    await nav(page, "Models");
    await page.getByRole("button", { name: "Add model" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Model name").fill("e2e-model");
    await dialog.getByLabel("Base URL 1").fill(server.upstreamUrl);
    await dialog.getByLabel("Upstream model").fill("fake-upstream-model");
    await dialog.getByLabel("API key").fill("upstream-secret-key");
    await dialog.getByRole("button", { name: "Create model" }).click();
    await page.getByRole("link", { name: "e2e-model" }).click();
    await page.getByRole("cell", { name: "stored" }).waitFor();
    expect(await page.content()).not.toContain("upstream-secret-key");

    const client = gateway(apiKey);
    for (let i = 0; i < 3; i += 1) {
      await client.chat.completions.create({ model: "e2e-model", messages: [{ role: "user", content: `call ${i}` }] });
    }
    await nav(page, "Usage");
    const row = page.locator("table", { has: page.locator("caption") }).getByRole("row", { name: /e2e-model/ });
    await expect
      .poll(
        async () => {
          if ((await row.count()) === 0) {
            // Records are written off the request path: ask again.
            await page.getByLabel("Range").selectOption("1h");
            await page.getByLabel("Range").selectOption("24h");
          }
          return (await row.count()) > 0 ? await row.getByRole("cell").nth(1).textContent() : null;
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe("3");
  });

  it("changes a rate limit and the gateway answers 429", async () => {
    await nav(page, "Limits");
    await page.getByRole("button", { name: "Add policy" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Key").selectOption({ label: `${HOSTILE} (${apiKey.slice(0, 19)})` });
    await dialog.getByLabel("Requests per minute").fill("100");
    await dialog.getByRole("button", { name: "Create policy" }).click();
    await visible(page, "rpm 100");
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("dialog").getByLabel("Requests per minute").fill("1");
    await page.getByRole("dialog").getByRole("button", { name: "Save limits" }).click();
    await page.getByRole("cell", { name: "rpm 1", exact: true }).waitFor();

    const client = gateway(apiKey);
    const status = async () => {
      try {
        await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "x" }] });
        return 200;
      } catch (error) {
        return error instanceof OpenAI.APIError ? error.status : -1;
      }
    };
    await expect.poll(status, { timeout: 10_000, interval: 300 }).toBe(429);
  });

  it("creates a compute pool, registers a model and deploys it; the pages show what the API says", async () => {
    // The API, read with a session of its own, is what the pages are compared with.
    adminToken = await apiLogin(server.adminEmail, server.adminPassword, recoveryCode);
    await nav(page, "Compute pools");
    await page.getByRole("button", { name: "Create pool" }).click();
    let dialog = page.getByRole("dialog");
    await dialog.getByLabel("Pool name").fill("e2e-pool");
    await dialog.getByLabel("Provider").fill("local");
    await dialog.getByLabel("Configuration (JSON)").fill("{");
    await dialog.getByRole("button", { name: "Create pool" }).click();
    await dialog.getByText("Enter a JSON object").waitFor();
    // The adapter checks its settings: its refusal is shown in words.
    await dialog.getByLabel("Configuration (JSON)").fill('{"bogus": 1}');
    await dialog.getByRole("button", { name: "Create pool" }).click();
    await dialog.getByText(/unknown local pool settings: bogus/).waitFor();
    await dialog.getByLabel("Configuration (JSON)").fill('{"max_replicas": 2}');
    await dialog.getByRole("button", { name: "Create pool" }).click();
    await page.getByRole("cell", { name: "e2e-pool", exact: true }).waitFor();
    await page.getByRole("cell", { name: "local", exact: true }).waitFor();

    await nav(page, "Model registry");
    await page.getByRole("button", { name: "Register model" }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByLabel("Model name").fill("e2e-served");
    await dialog.getByLabel("Version").fill("1");
    await dialog.getByLabel("Artifact URI").fill("hf://example/e2e-served");
    await dialog.getByLabel("Engine", { exact: true }).selectOption("openai-compatible");
    await dialog.getByRole("button", { name: "Register" }).click();
    await dialog.getByText("The openai-compatible engine needs the server's command.").waitFor();
    // A server that says one line and exits: the deployment cannot become ready.
    await dialog.getByLabel("Server command").fill("{python}\n-c\nprint('e2e model server says hi'); raise SystemExit(3)");
    await dialog.getByRole("button", { name: "Register" }).click();
    await page.getByRole("cell", { name: "hf://example/e2e-served" }).waitFor();

    await nav(page, "Deployments");
    await page.getByRole("button", { name: "Deploy a model" }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByLabel("Model version").selectOption({ label: "e2e-served 1 (openai-compatible)" });
    await dialog.getByLabel("Pool").selectOption({ label: "e2e-pool (local)" });
    await dialog.getByLabel("Served name").fill("e2e-deployed");
    await dialog.getByRole("button", { name: "Deploy" }).click();
    await page.getByRole("heading", { name: "e2e-deployed" }).waitFor();
    const deploymentId = decodeURIComponent(page.url().split("/").pop() ?? "");

    // The detail page polls while the state settles: it ends up saying what the API says.
    const fact = (term: string) => page.locator(`dl.facts dt:text-is("${term}") + dd`);
    const agrees = async () => {
      const status = await callApi<DeploymentStatus>(`/deployment/status/${deploymentId}`, adminToken);
      const shown = {
        state: await fact("State").textContent(),
        replicas: await fact("Replicas").textContent(),
        error: await fact("Last error").textContent(),
        events: await page.getByRole("list", { name: /State history/ }).getByRole("listitem").count(),
      };
      const expected = {
        state: status.state,
        replicas: `${status.replicas.ready} ready of ${status.replicas.desired} desired`,
        error: status.error ?? "-",
        events: status.events.length,
      };
      return JSON.stringify(shown) === JSON.stringify(expected) ? "same" : `${JSON.stringify(shown)} != ${JSON.stringify(expected)}`;
    };
    await expect.poll(agrees, { timeout: 30_000, interval: 500 }).toBe("same");
    expect(await page.getByRole("list", { name: /State history/ }).getByRole("listitem").count()).toBeGreaterThan(0);
    await visible(page, "PENDING");
    // The model server's output, in the log viewer.
    await page.locator("pre.logs", { hasText: "e2e model server says hi" }).waitFor({ timeout: 15_000 });

    await page.getByRole("button", { name: "Scale" }).click();
    await page.getByRole("dialog").getByLabel("Replicas").fill("2");
    await page.getByRole("dialog").getByRole("button", { name: "Scale" }).click();
    await expect.poll(async () => (await callApi<DeploymentStatus>(`/deployment/status/${deploymentId}`, adminToken)).replicas.desired).toBe(2);
    await expect.poll(agrees, { timeout: 30_000, interval: 500 }).toBe("same");

    // A server that keeps talking: its page follows the output as it is written, and
    // terminating it through the page ends it.
    await callApi("/deployment/registerModel", adminToken, "POST", {
      name: "e2e-served",
      version: "2",
      artifact_uri: "hf://example/e2e-served",
      engine: "openai-compatible",
      command: ["{python}", "-c", "import time\nfor i in range(100000):\n    print('tick', i, flush=True)\n    time.sleep(0.3)"],
    });
    const pools = await callApi<{ data: { id: string; name: string }[] }>(`/deployment/listPools/${await organizationOf(adminToken)}`, adminToken);
    const talking = await callApi<{ id: string }>("/deployment/deploy", adminToken, "POST", {
      model: "e2e-served",
      version: "2",
      pool_id: pools.data.find((pool) => pool.name === "e2e-pool")?.id,
      served_name: "e2e-talking",
    });
    await page.goto(dashboard(`/deployments/${talking.id}`));
    await page.getByText("Following").waitFor();
    const tick = async () => Number(/tick (\d+)\s*$/.exec((await page.locator("pre.logs").textContent()) ?? "")?.[1] ?? -1);
    await expect.poll(tick, { timeout: 15_000 }).toBeGreaterThan(2);
    const seen = await tick();
    // New lines arrive without a reload.
    await expect.poll(tick, { timeout: 10_000 }).toBeGreaterThan(seen + 2);
    await page.getByRole("button", { name: "Terminate" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Terminate" }).click();
    await expect
      .poll(async () => (await callApi<DeploymentStatus>(`/deployment/status/${talking.id}`, adminToken)).state, { timeout: 30_000 })
      .toBe("TERMINATED");
    await page.locator(`dl.facts dt:text-is("State") + dd`, { hasText: "TERMINATED" }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: /Scale|Terminate/ }).count()).toBe(0);

    await nav(page, "Deployments");
    const row = page.getByRole("row", { name: /e2e-deployed/ });
    await expect
      .poll(async () => {
        const status = await callApi<DeploymentStatus>(`/deployment/status/${deploymentId}`, adminToken);
        return (await row.getByRole("cell").nth(2).textContent()) === status.state;
      }, { timeout: 30_000, interval: 500 })
      .toBe(true);
  });

  it("creates a prompt template, previews it, adds a version and activates it", async () => {
    await nav(page, "Prompt templates");
    await page.getByRole("button", { name: "Create template" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Template name").fill("e2e-greeting");
    await dialog.getByLabel("Content of message 1").fill("You are {{ persona }}.");
    await dialog.getByLabel("Content of message 2").fill("Hello {{ name }}!");
    await dialog.getByRole("button", { name: "Add variable" }).click();
    await dialog.getByLabel("Variable 1 name").fill("1st");
    await dialog.getByRole("button", { name: "Create template" }).click();
    await dialog.getByText(/"1st" is not a variable name/).waitFor();
    await dialog.getByLabel("Variable 1 name").fill("name");
    await dialog.getByRole("button", { name: "Add variable" }).click();
    await dialog.getByLabel("Variable 2 name").fill("persona");
    await dialog.getByLabel("Variable 2 default").fill("a helpful bot");
    // The editor (messages, variables) and the template's page: axe, as on the main pages.
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Create template" }).click();
    await page.getByRole("heading", { name: "e2e-greeting" }).waitFor();
    const templateId = decodeURIComponent(page.url().split("/").pop() ?? "");

    await page.getByLabel("Variables (JSON)").fill('{"name": "Ada"}');
    await page.getByRole("button", { name: "Render" }).click();
    const rendered = page.getByRole("list", { name: "Rendered messages" });
    await rendered.getByText("Hello Ada!").waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    const expected = await callApi<{ messages: { content: string }[] }>(`/management/templates/${templateId}/render`, adminToken, "POST", {
      variables: { name: "Ada" },
    });
    expect(expected.messages.map((m) => m.content)).toEqual(["You are a helpful bot.", "Hello Ada!"]);
    expect(await rendered.locator(".content").allTextContents()).toEqual(expected.messages.map((m) => m.content));
    await page.getByLabel("Variables (JSON)").fill("[1]");
    await page.getByRole("button", { name: "Render" }).click();
    await visible(page, "Enter a JSON object");

    await page.getByRole("button", { name: "Add version" }).click();
    await dialog.getByLabel("Content of message 2").fill("Hi {{ name }}, again.");
    await dialog.getByRole("button", { name: "Add version" }).click();
    await page.getByRole("button", { name: "Activate version 2" }).click();
    await expect.poll(() => page.getByTestId("active-version").textContent()).toBe("v2");
    expect((await callApi<{ active_version: number }>(`/management/templates/${templateId}`, adminToken)).active_version).toBe(2);
    await page.getByLabel("Variables (JSON)").fill('{"name": "Ada"}');
    await page.getByRole("button", { name: "Render" }).click();
    await rendered.getByText("Hi Ada, again.").waitFor();
  });

  it("creates a knowledge base, uploads a text file and shows the state the API reports", async () => {
    await nav(page, "Knowledge bases");
    await page.getByRole("button", { name: "Create knowledge base" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Knowledge base name").fill("e2e docs");
    await dialog.getByLabel("Embedding model").fill("fake-model");
    await dialog.getByRole("button", { name: "Create knowledge base" }).click();
    await dialog.getByText(/may hold only letters/).waitFor();
    await dialog.getByLabel("Knowledge base name").fill("e2e-docs");
    await dialog.getByRole("button", { name: "Create knowledge base" }).click();
    await page.getByRole("heading", { name: "e2e-docs" }).waitFor();
    const baseId = decodeURIComponent(page.url().split("/").pop() ?? "");

    await page.getByLabel("Document", { exact: true }).setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Inferia routes each request to the least busy endpoint of a model.\n"),
    });
    await page.getByLabel("Title", { exact: true }).fill("Routing notes");
    await page.getByRole("button", { name: "Upload" }).click();
    const row = page.getByRole("table", { name: "Documents" }).getByRole("row", { name: /Routing notes/ });
    await row.waitFor();
    // Ingestion runs in the background; the e2e server may have no working embeddings:
    // the page must show whatever the API settles on, and the failure's reason.
    let settled: { state: string; error: string | null } = { state: "", error: null };
    await expect
      .poll(async () => {
        const docs = await callApi<{ data: { state: string; error: string | null }[] }>(`/management/knowledge-bases/${baseId}/documents`, adminToken);
        settled = docs.data[0] ?? settled;
        return settled.state;
      }, { timeout: 60_000, interval: 500 })
      .toMatch(/^(ready|failed)$/);
    await row.getByText(settled.state, { exact: true }).waitFor({ timeout: 10_000 });
    if (settled.error) await row.getByText(settled.error).waitFor();

    await page.getByLabel("Query").fill("which endpoint gets a request?");
    await page.getByRole("button", { name: "Search" }).click();
    if (settled.state === "ready") {
      const hits = await callApi<{ data: unknown[] }>(`/management/knowledge-bases/${baseId}/search`, adminToken, "POST", {
        query: "which endpoint gets a request?",
      });
      if (hits.data.length) {
        const results = page.getByRole("table", { name: "Search results" });
        await results.getByText(/least busy endpoint/).first().waitFor();
        expect(await results.getByRole("row").count()).toBe(hits.data.length + 1);
      } else {
        await visible(page, "No passages found.");
      }
    } else {
      // The search answers in words either way: passages, none, or the API's refusal.
      await page.getByRole("search").locator("table, .muted, .field-error").first().waitFor();
    }
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it("registers a compute node, shows its token once, and the token sends heartbeats", async () => {
    // A pool's nodes are a link away from the pools page.
    await nav(page, "Compute pools");
    await page.getByRole("link", { name: "Nodes of e2e-pool" }).click();
    await page.getByRole("heading", { name: "Compute nodes" }).waitFor();
    expect(await page.getByLabel("Pool", { exact: true }).locator("option:checked").textContent()).toBe("e2e-pool");
    await page.getByRole("button", { name: "Register node" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("GPUs").fill("A100");
    await dialog.getByRole("button", { name: "Register node" }).click();
    await dialog.getByText(/type=count/).first().waitFor();
    await dialog.getByLabel("GPUs").fill("A100=2");
    await dialog.getByLabel("CPUs").fill("8");
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Register node" }).click();
    const token = (await dialog.getByTestId("node-token").textContent()) ?? "";
    expect(token.length).toBeGreaterThan(16);
    await dialog.getByRole("button", { name: "Done" }).click();
    const nodes = await callApi<{ data: { id: string; state: string }[] }>("/inventory/nodes", adminToken);
    expect(nodes.data).toHaveLength(1);
    const [node] = nodes.data;
    if (!node) throw new Error("the API lists no node");
    const row = page.getByRole("row", { name: new RegExp(node.id) });
    await row.getByText("2 × A100, 8 CPUs").waitFor();
    await row.getByText(node.state, { exact: true }).waitFor();
    // Shown once: the page keeps no copy of it.
    expect(await page.content()).not.toContain(token);
    await page.getByRole("button", { name: "Register node" }).click();
    await dialog.getByRole("button", { name: "Register node" }).waitFor();
    expect(await dialog.getByTestId("node-token").count()).toBe(0);
    await page.keyboard.press("Escape");
    const beat = await fetch(`${server.url}/inventory/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(beat.status).toBe(200);
    await row.getByRole("button", { name: `Delete node ${node.id}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    expect((await callApi<{ data: unknown[] }>("/inventory/nodes", adminToken)).data).toHaveLength(0);
  });

  it("invites a user who signs in as a viewer and sees no create or delete controls", async () => {
    await nav(page, "Members");
    await page.getByRole("button", { name: "Invite someone" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("E-mail").fill(VIEWER.email);
    await dialog.getByLabel("Role").selectOption("viewer");
    await dialog.getByRole("button", { name: "Invite" }).click();
    const inviteLink = (await dialog.getByTestId("invite-link").textContent()) ?? "";
    expect(inviteLink).toContain("/dashboard/accept-invite?token=");
    await dialog.getByRole("button", { name: "Done" }).click();

    viewer = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await viewer.goto(inviteLink);
    await viewer.getByLabel("Password", { exact: true }).fill(VIEWER.password);
    await viewer.getByLabel("Repeat the password").fill(VIEWER.password);
    await viewer.getByRole("button", { name: "Accept" }).click();
    await viewer.getByRole("link", { name: "Sign in" }).click();
    await signIn(viewer, VIEWER.email, VIEWER.password);
    await viewer.getByRole("heading", { name: "Overview" }).waitFor();
    await nav(viewer, "API keys");
    await viewer.locator("tbody tr").first().waitFor();
    expect(await viewer.getByRole("button", { name: /Create|Revoke/ }).count()).toBe(0);
    for (const [label, controls] of [
      ["Models", /Add model/],
      ["Limits", /Add policy|Edit|Delete/],
      ["Guardrails", /Add policy|Edit|Delete/],
      ["Members", /Invite|Remove|Revoke|Add role|Delete/],
      ["Compute pools", /Create pool|Delete/],
      ["Model registry", /Register|New version|Delete/],
      ["Deployments", /Deploy/],
      ["Prompt templates", /Create template|Delete/],
      ["Knowledge bases", /Create knowledge base|Delete/],
    ] as const) {
      await nav(viewer, label);
      await viewer.locator("tbody tr").first().waitFor();
      expect(await viewer.getByRole("button", { name: controls }).count(), label).toBe(0);
    }

    // The viewer turns 2FA on, then off again (password and a current code): later
    // scenarios sign the viewer in with the password alone.
    await viewer.getByRole("link", { name: /viewer@example\.com/ }).click();
    await viewer.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const secret = (await viewer.getByTestId("totp-secret").textContent()) ?? "";
    await viewer.getByLabel("Code from the app").fill(totp(secret));
    await viewer.getByRole("button", { name: "Turn on" }).click();
    await viewer.getByRole("button", { name: "I have saved them" }).click();
    await viewer.getByRole("button", { name: "Turn off two-factor authentication" }).click();
    await viewer.getByLabel("Password", { exact: true }).fill(VIEWER.password);
    await viewer.getByLabel("Authentication code").fill("000000");
    await viewer.getByRole("button", { name: "Turn off", exact: true }).click();
    await viewer.getByRole("alert").filter({ hasText: "Wrong password or code." }).waitFor();
    await viewer.getByLabel("Authentication code").fill(totp(secret, 1));
    await viewer.getByRole("button", { name: "Turn off", exact: true }).click();
    await viewer.getByRole("button", { name: "Set up two-factor authentication" }).waitFor();
    expect(await viewer.locator("dl.facts dt:text-is('Two-factor authentication') + dd").textContent()).toBe("Off");
  });

  it("refreshes an expired access token silently, keeps the session over a reload, and sends an ended one to login and back", async () => {
    // The first call of a page not loaded yet meets an expired token: the client
    // refreshes and repeats it, and the page just shows.
    let expired = 1;
    await viewer.route("**/management/logs*", async (route) => {
      if (expired-- > 0) return route.fulfill(unauthenticated);
      return route.fallback();
    });
    await nav(viewer, "Inference logs");
    await viewer.getByRole("cell", { name: "e2e-model" }).first().waitFor();
    expect(expired).toBeLessThan(1);
    await viewer.unroute("**/management/logs*");
    await nav(viewer, "Limits");
    await viewer.getByRole("cell", { name: "rpm 1", exact: true }).waitFor();

    // A reload keeps the session: the refresh token is an HttpOnly cookie no script
    // can read, and no token is in any storage.
    await viewer.reload();
    await viewer.getByRole("heading", { name: "Rate limits, quotas and budgets" }).waitFor();
    expect(viewer.url()).toContain("/dashboard/limits");
    expect(await viewer.evaluate(() => document.cookie)).not.toContain("inferia_refresh");
    expect(await viewer.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toMatch(/rt_|eyJ/);
    const cookies = await viewer.context().cookies();
    expect(cookies.find((cookie) => cookie.name === "inferia_refresh")).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/auth/refresh",
    });

    await viewer.route("**/auth/refresh", (route) => route.fulfill({ ...unauthenticated, body: '{"error":{"message":"refresh token reused"}}' }));
    await viewer.route("**/management/models", (route) => route.fulfill(unauthenticated));
    await nav(viewer, "Models");
    await viewer.waitForURL(/login\?next=%2Fmodels/);
    await visible(viewer, "Your session has ended. Sign in again to continue.");
    await viewer.unroute("**/auth/refresh");
    await viewer.unroute("**/management/models");
    await signIn(viewer, VIEWER.email, VIEWER.password);
    await viewer.getByRole("heading", { name: "Models and upstream providers" }).waitFor();
  });

  it("shows a down API with a retry, a 403 and a 404 in words", async () => {
    await viewer.route("**/management/usage*", (route) => route.abort("connectionrefused"));
    await nav(viewer, "Usage");
    await visible(viewer, /could not be reached/);
    await viewer.unroute("**/management/usage*");
    await viewer.getByRole("button", { name: "Retry" }).first().click();
    await viewer.locator("table", { has: viewer.locator("caption") }).getByRole("row", { name: /e2e-model/ }).waitFor();

    await viewer.route("**/audit/logs*", (route) =>
      route.fulfill({ status: 403, contentType: "application/json", body: '{"error":{"message":"missing permission audit:read","code":"forbidden"}}' }),
    );
    await nav(viewer, "Audit log");
    await visible(viewer, "You do not have permission to do this. Missing permission audit:read.");
    await viewer.unroute("**/audit/logs*");

    await viewer.evaluate(() => {
      history.pushState({}, "", "/dashboard/models/does-not-exist");
      dispatchEvent(new PopStateEvent("popstate"));
    });
    await visible(viewer, /^Not found: Model not found\./);
    await viewer.context().close();
  });

  it("has an audit entry for each action", async () => {
    await nav(page, "Audit log");
    for (const action of ["auth.login", "api_key.create", "model.create", "policy.create", "policy.update", "invitation.create", "invitation.accept", "template.create", "template.version.create", "template.activate", "knowledge_base.create", "knowledge_base.document.upload"]) {
      await page.getByLabel("Action").fill(action);
      await page.getByRole("cell", { name: action, exact: true }).first().waitFor();
    }
    await page.getByLabel("Action").fill("");
  });

  it("has no serious accessibility problems on the main pages, in light and dark", async () => {
    const pages = [
      ["Overview", "overview"],
      ["Playground", "playground"],
      ["API keys", "api-keys"],
      ["Models", "models"],
      ["Limits", "limits"],
      ["Guardrails", "guardrails"],
      ["Usage", "usage"],
      ["Inference logs", "logs"],
      ["Members", "members"],
      ["Audit log", "audit"],
      ["Deployments", "deployments"],
      ["Model registry", "registry"],
      ["Compute pools", "pools"],
      ["Compute nodes", "nodes"],
      ["Prompt templates", "templates"],
      ["Knowledge bases", "knowledge-bases"],
    ] as const;
    const problems: string[] = [];
    for (const theme of ["light", "dark"] as const) {
      if (theme === "dark") await page.getByRole("button", { name: "Switch to the dark theme" }).click();
      for (const [label, name] of pages) {
        await nav(page, label);
        await page.locator("main h1").waitFor();
        await expect.poll(() => page.locator("main [role=status]").count()).toBe(0);
        // Every rule in light; the dark theme changes only colours: contrast.
        const found = await accessibilityProblems(page, theme === "dark" ? ["color-contrast"] : undefined);
        problems.push(...found.map((problem) => `${name} (${theme}): ${problem}`));
        await screenshot(page, `${name}-${theme}`);
      }
    }
    const login = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" })).newPage();
    await login.goto(dashboard("/login"));
    await login.getByRole("heading", { name: "Sign in to Inferia" }).waitFor();
    problems.push(...(await accessibilityProblems(login)).map((problem) => `login: ${problem}`));
    await screenshot(login, "login-dark");
    expect(problems).toEqual([]);
  }, 120_000);
});
