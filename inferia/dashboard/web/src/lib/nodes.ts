/** The compute node form and how a node is shown: pure logic, so it is unit-tested. */

import type { Parsed } from "../ui/useDraftForm";
import type { NodeInput, NodeResources } from "../api/types";

export interface NodeDraft {
  pool_id: string;
  provider_instance_id: string;
  endpoint: string;
  gpus: string;
  gpu_memory_gb: string;
  cpus: string;
  memory_gb: string;
}

export const blankNode = (poolId = ""): NodeDraft => ({
  pool_id: poolId,
  provider_instance_id: "",
  endpoint: "",
  gpus: "",
  gpu_memory_gb: "",
  cpus: "",
  memory_gb: "",
});

/** "A100=2, H100 = 1" -> {A100: 2, H100: 1}; or the problem. */
export function parseGpus(text: string): { value: Record<string, number>; error?: string } {
  const value: Record<string, number> = {};
  for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
    const match = /^([^=\s]{1,64})\s*=\s*(\d+)$/.exec(part);
    if (!match?.[1] || match[2] === undefined) return { value: {}, error: 'Write GPUs as type=count, such as "A100=2, L4=1".' };
    value[match[1]] = (value[match[1]] ?? 0) + Number(match[2]);
  }
  return { value };
}

function amount(text: string): number | null | undefined {
  if (!text.trim()) return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) && value >= 0 && value <= 1e9 ? value : null;
}

const AMOUNTS = ["gpu_memory_gb", "cpus", "memory_gb"] as const;

/** The register form -> the API's body, or the first problem found, by field. */
export function nodeFromDraft(draft: NodeDraft): Parsed<NodeInput, keyof NodeDraft> {
  if (!draft.pool_id) return { field: "pool_id", error: "Choose a pool." };
  const instance = draft.provider_instance_id.trim();
  if (instance.length > 255) return { field: "provider_instance_id", error: "At most 255 characters." };
  const endpoint = draft.endpoint.trim();
  if (endpoint && (!/^https?:\/\/\S+$/.test(endpoint) || endpoint.length > 300)) {
    return { field: "endpoint", error: "An http:// or https:// URL, such as http://10.0.0.5:8000." };
  }
  const gpus = parseGpus(draft.gpus);
  if (gpus.error) return { field: "gpus", error: gpus.error };
  const capacity: Partial<NodeResources> = {};
  if (Object.keys(gpus.value).length) capacity.gpus = gpus.value;
  for (const field of AMOUNTS) {
    const value = amount(draft[field]);
    if (value === null) return { field, error: "An amount of 0 or more." };
    if (value !== undefined) capacity[field] = value;
  }
  return {
    body: {
      pool_id: draft.pool_id,
      ...(instance ? { provider_instance_id: instance } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(Object.keys(capacity).length ? { capacity } : {}),
    },
  };
}

/** "2 × A100, 80 GB GPU memory, 16 CPUs, 64 GB memory", or "none". */
export function formatNodeResources(resources: NodeResources): string {
  const parts = Object.entries(resources.gpus).map(([type, count]) => `${count} × ${type}`);
  if (resources.gpu_memory_gb) parts.push(`${resources.gpu_memory_gb} GB GPU memory`);
  if (resources.cpus) parts.push(`${resources.cpus} CPU${resources.cpus === 1 ? "" : "s"}`);
  if (resources.memory_gb) parts.push(`${resources.memory_gb} GB memory`);
  return parts.length ? parts.join(", ") : "none";
}

/** "never", "12 s ago", "5 min ago", "3 h ago". */
export function heartbeatAge(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return "never";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export function nodeTone(state: string): "ok" | "bad" | "" {
  const upper = state.toUpperCase();
  if (upper === "READY") return "ok";
  if (upper === "LOST" || upper === "FAILED") return "bad";
  return "";
}
