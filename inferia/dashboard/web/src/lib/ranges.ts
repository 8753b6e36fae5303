/** Time ranges of the usage pages and the bucket each is drawn with. */

import type { UsageBucket } from "../api/types";

export const RANGES = {
  "1h": { label: "Last hour", ms: 3_600_000, bucket: "minute" },
  "24h": { label: "Last 24 hours", ms: 86_400_000, bucket: "hour" },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000, bucket: "day" },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000, bucket: "day" },
} as const satisfies Record<string, { label: string; ms: number; bucket: UsageBucket }>;

export type RangeKey = keyof typeof RANGES;

/** The range as the API's start/end (ISO, UTC), ending at `now`. The end is rounded
 * up to the minute so the query key (and cache) is stable within a minute. */
export function rangeWindow(key: RangeKey, now = Date.now()): { start: string; end: string; bucket: UsageBucket } {
  const end = Math.ceil(now / 60_000) * 60_000;
  const range = RANGES[key];
  return { start: new Date(end - range.ms).toISOString(), end: new Date(end).toISOString(), bucket: range.bucket };
}
