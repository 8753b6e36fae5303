/** The control plane's forms and states: pure logic, so it is unit-tested. */

import { ENGINES, type DeploymentEvent, type Engine, type PoolInput, type RegisteredModelInput, type Resources } from "../api/types";

/** The API's rule for pool, model and served names. */
const NAME = /^[\w.-]+$/;
const VERSION = /^[\w.\-+]+$/;
const URI = /^(hf|file|s3|ollama):\/\/\S+$/;

export function checkSlug(value: string, what = "name", pattern = NAME, max = 200): string | undefined {
  const text = value.trim();
  if (!text) return `Enter a ${what}.`;
  if (text.length > max) return `At most ${max} characters.`;
  return pattern.test(text) ? undefined : `The ${what} may hold only letters, digits, "_", "." and "-".`;
}

/** "a, b ,, c" -> ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Command-line arguments, one per line (so an argument may hold spaces). */
export function splitLines(value: string): string[] {
  return value
    .split("\n")
    .map((item) => item.trim())
    .filter(Boolean);
}

function wholeNumber(value: string, fallback: number): number | null {
  const text = value.trim();
  if (!text) return fallback;
  const number = Number(text);
  return Number.isInteger(number) && number >= 0 ? number : null;
}

function amount(value: string): number | null | undefined {
  const text = value.trim();
  if (!text) return undefined;
  const number = Number(text);
  return Number.isFinite(number) && number >= 0 ? number : null;
}

/** A JSON object typed into a text area; "" is {}. */
export function parseObject(value: string): { value: Record<string, unknown>; error?: string } {
  if (!value.trim()) return { value: {} };
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      return { value: parsed as Record<string, unknown> };
    }
  } catch {
    // described below
  }
  return { value: {}, error: "Enter a JSON object, such as {\"key\": \"value\"}." };
}

export interface PoolDraft {
  name: string;
  provider: string;
  config: string;
  credentials: string;
  allowed_gpu_types: string;
  regions: string;
  min_nodes: string;
  max_nodes: string;
  max_cost_per_hour: string;
}

export const blankPool = (): PoolDraft => ({
  name: "",
  provider: "local",
  config: "",
  credentials: "",
  allowed_gpu_types: "",
  regions: "",
  min_nodes: "0",
  max_nodes: "1",
  max_cost_per_hour: "",
});

/** The pool form -> the API's body, or the first problem found, by field. */
export function poolFromDraft(draft: PoolDraft): { body?: PoolInput; field?: keyof PoolDraft; error?: string } {
  const nameError = checkSlug(draft.name);
  if (nameError) return { field: "name", error: nameError };
  const providerError = checkSlug(draft.provider, "provider", NAME, 64);
  if (providerError) return { field: "provider", error: providerError };
  const config = parseObject(draft.config);
  if (config.error) return { field: "config", error: config.error };
  const credentials = parseObject(draft.credentials);
  if (credentials.error) return { field: "credentials", error: credentials.error };
  if (Object.values(credentials.value).some((v) => typeof v !== "string")) {
    return { field: "credentials", error: "Credentials are text values." };
  }
  const min = wholeNumber(draft.min_nodes, 0);
  if (min === null) return { field: "min_nodes", error: "A whole number of 0 or more." };
  const max = wholeNumber(draft.max_nodes, 1);
  if (max === null) return { field: "max_nodes", error: "A whole number of 0 or more." };
  if (min > max) return { field: "max_nodes", error: "At least the minimum." };
  const cost = amount(draft.max_cost_per_hour);
  if (cost === null) return { field: "max_cost_per_hour", error: "An amount of 0 or more." };
  const hasCredentials = Object.keys(credentials.value).length > 0;
  return {
    body: {
      name: draft.name.trim(),
      provider: draft.provider.trim(),
      config: config.value,
      ...(hasCredentials ? { credentials: credentials.value as Record<string, string> } : {}),
      allowed_gpu_types: splitList(draft.allowed_gpu_types),
      regions: splitList(draft.regions),
      min_nodes: min,
      max_nodes: max,
      ...(cost !== undefined ? { max_cost_per_hour: cost } : {}),
    },
  };
}

export interface RegistryDraft {
  name: string;
  version: string;
  artifact_uri: string;
  engine: Engine;
  engine_args: string;
  command: string;
  gpus: string;
  gpu_memory_gb: string;
  cpus: string;
  memory_gb: string;
}

export const blankRegistryModel = (): RegistryDraft => ({
  name: "",
  version: "",
  artifact_uri: "",
  engine: "vllm",
  engine_args: "",
  command: "",
  gpus: "0",
  gpu_memory_gb: "0",
  cpus: "0",
  memory_gb: "0",
});

export function registryModelFromDraft(draft: RegistryDraft): {
  body?: RegisteredModelInput;
  field?: keyof RegistryDraft;
  error?: string;
} {
  const nameError = checkSlug(draft.name);
  if (nameError) return { field: "name", error: nameError };
  const versionError = checkSlug(draft.version, "version", VERSION, 100);
  if (versionError) return { field: "version", error: versionError.replace('and "-"', '"-" and "+"') };
  if (!URI.test(draft.artifact_uri.trim())) {
    return { field: "artifact_uri", error: "Use hf://, file://, s3:// or ollama:// followed by the artifact." };
  }
  if (!(ENGINES as readonly string[]).includes(draft.engine)) return { field: "engine", error: "Choose an engine." };
  const command = splitLines(draft.command);
  if (draft.engine === "openai-compatible" && command.length === 0) {
    return { field: "command", error: "The openai-compatible engine needs the server's command." };
  }
  const resources: Partial<Resources> = {};
  for (const key of ["gpus", "gpu_memory_gb", "cpus", "memory_gb"] as const) {
    const value = key === "gpus" ? wholeNumber(draft[key], 0) : (amount(draft[key]) ?? 0);
    if (value === null) return { field: key, error: key === "gpus" ? "A whole number of 0 or more." : "An amount of 0 or more." };
    resources[key] = value;
  }
  return {
    body: {
      name: draft.name.trim(),
      version: draft.version.trim(),
      artifact_uri: draft.artifact_uri.trim(),
      engine: draft.engine,
      engine_args: splitLines(draft.engine_args),
      command,
      resources: resources as Resources,
    },
  };
}

export function checkReplicas(value: string): { replicas?: number; error?: string } {
  const replicas = wholeNumber(value, Number.NaN);
  if (replicas === null || Number.isNaN(replicas) || replicas > 1000) return { error: "A whole number from 0 to 1000." };
  return { replicas };
}

/** Ended states: nothing will change any more. */
export function isFinal(state: string): boolean {
  return state === "TERMINATED";
}

/** States that change by themselves: the pages poll while one is shown. */
export function isSettling(state: string): boolean {
  return ["PENDING", "PROVISIONING", "STARTING", "TERMINATING", "DEGRADED"].includes(state);
}

/** How a state is shown: "ok" (serving), "bad" (failed), or "" (in between, ended). */
export function stateTone(state: string): "ok" | "bad" | "" {
  if (state === "RUNNING" || state === "ACTIVE" || state === "READY") return "ok";
  if (state === "FAILED" || state === "DEGRADED") return "bad";
  return "";
}

/** The history as a timeline, newest first. */
export function timeline(events: readonly DeploymentEvent[]): DeploymentEvent[] {
  return [...events].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

export function formatResources(resources: Resources): string {
  const parts: string[] = [];
  if (resources.gpus) parts.push(`${resources.gpus} GPU${resources.gpus === 1 ? "" : "s"}`);
  if (resources.gpu_memory_gb) parts.push(`${resources.gpu_memory_gb} GB GPU memory`);
  if (resources.cpus) parts.push(`${resources.cpus} CPU${resources.cpus === 1 ? "" : "s"}`);
  if (resources.memory_gb) parts.push(`${resources.memory_gb} GB memory`);
  return parts.length ? parts.join(", ") : "none requested";
}

/** A followed log: complete lines (the newest `max`) and the unfinished last one. */
export interface FollowedLog {
  lines: string[];
  partial: string;
}

export const LOG_LINES = 1000;

export function appendLog(log: FollowedLog, chunk: string, max = LOG_LINES): FollowedLog {
  const parts = (log.partial + chunk).split("\n");
  const partial = parts.pop() ?? "";
  const lines = parts.length ? [...log.lines, ...parts] : log.lines;
  return { lines: lines.length > max ? lines.slice(lines.length - max) : lines, partial };
}

export function logText(log: FollowedLog): string {
  return [...log.lines, ...(log.partial ? [log.partial] : [])].join("\n");
}
