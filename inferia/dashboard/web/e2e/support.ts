/** What the browser scenarios share: the server under test (from the pytest driver),
 * Chromium, TOTP codes, accessibility checks and screenshots. */

import AxeBuilder from "@axe-core/playwright";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest tests/dashboard`);
  return value;
}

export const server = {
  url: required("INFERIA_E2E_URL"),
  adminEmail: required("INFERIA_E2E_ADMIN_EMAIL"),
  adminPassword: required("INFERIA_E2E_ADMIN_PASSWORD"),
  upstreamUrl: required("INFERIA_E2E_UPSTREAM_URL"),
  screenshots: process.env.INFERIA_E2E_SCREENSHOTS ?? "",
  artifacts: process.env.INFERIA_E2E_ARTIFACTS ?? "",
};

export const dashboard = (path = "/") => `${server.url}/dashboard${path}`;

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) for a base32 secret, `stepOffset` steps from now:
 * the server refuses a step it already accepted, so each login takes a later one. */
export function totp(secret: string, stepOffset = 0, now = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)?.map((byte) => parseInt(byte, 2)) ?? []);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000) + stepOffset));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = (digest[digest.length - 1] ?? 0) & 0xf;
  const code = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

/** Serious and critical axe violations of the page (WCAG 2 A and AA rules). */
export async function accessibilityProblems(page: Page, rules?: string[]): Promise<string[]> {
  const builder = new AxeBuilder({ page });
  const results = await (rules ? builder.withRules(rules) : builder.withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(" ")).join("; ")})`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!server.screenshots) return;
  mkdirSync(server.screenshots, { recursive: true });
  await page.screenshot({ path: join(server.screenshots, `${name}.png`), fullPage: false, animations: "disabled" });
}

/** A JSON call of the API with a bearer token (set-up data, not what is under test). */
export async function callApi<T>(path: string, token: string, method = "GET", body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export async function apiLogin(email: string, password: string, code?: string): Promise<string> {
  const response = await fetch(`${server.url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, ...(code ? { totp: code } : {}) }),
  });
  if (!response.ok) throw new Error(`login: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
