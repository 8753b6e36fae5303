/** Shapes /management/usage rows into chart series and totals. */

import type { LogEntry, UsageBucket, UsageRow } from "../api/types";

export interface UsageTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export function totals(rows: readonly UsageRow[]): UsageTotals {
  const sum: UsageTotals = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
  for (const row of rows) {
    sum.requests += row.requests;
    sum.errors += row.errors;
    sum.promptTokens += row.prompt_tokens;
    sum.completionTokens += row.completion_tokens;
    sum.costUsd += row.cost_usd;
  }
  return sum;
}

const BUCKET_MS: Record<UsageBucket, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
};

/** The API names buckets "2026-12-07T19" (hour), "2026-12-07" (day), "2026-12"
 * (month), "2026-12-07T19:32" (minute), in UTC: -> epoch seconds. */
export function bucketStart(label: string): number {
  const [date = "", time] = label.split("T");
  const [year = "1970", month = "01", day = "01"] = date.split("-");
  const [hour = "00", minute = "00"] = (time ?? "").split(":");
  return Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)) / 1000;
}

/** Every bucket start from `start` to `end`, so quiet buckets draw as zero, not as gaps. */
export function bucketAxis(startIso: string, endIso: string, bucket: UsageBucket): number[] {
  const step = BUCKET_MS[bucket];
  const start = Math.floor(Date.parse(startIso) / step) * step;
  const end = Date.parse(endIso);
  const axis: number[] = [];
  if (bucket === "month") {
    const first = new Date(Date.parse(startIso));
    let cursor = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
    while (cursor <= end && axis.length < 1000) {
      axis.push(cursor / 1000);
      const next = new Date(cursor);
      cursor = Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1);
    }
    return axis;
  }
  for (let t = start; t <= end && axis.length < 5000; t += step) axis.push(t / 1000);
  return axis;
}

export type Metric = "requests" | "errors" | "tokens" | "cost_usd";

export function metricOf(row: UsageRow, metric: Metric): number {
  switch (metric) {
    case "tokens":
      return row.prompt_tokens + row.completion_tokens;
    case "cost_usd":
      return row.cost_usd;
    default:
      return row[metric];
  }
}

export interface Series {
  label: string;
  values: number[];
}

/** One series per value of `groupKey` ("model", "key_id", ...; null: one series of
 * everything), aligned on `axis`; the largest `limit` series are kept, the rest summed
 * into "other" so a chart stays readable. */
export function seriesBy(
  rows: readonly UsageRow[],
  axis: readonly number[],
  metric: Metric,
  groupKey: "model" | "key_id" | "user_id" | null,
  limit = 6,
): Series[] {
  const index = new Map(axis.map((t, i) => [t, i]));
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    const position = index.get(bucketStart(row.bucket));
    if (position === undefined) continue;
    const label = groupKey === null ? "all" : (row[groupKey] ?? "(none)");
    let values = groups.get(label);
    if (!values) {
      values = new Array<number>(axis.length).fill(0);
      groups.set(label, values);
    }
    values[position] = (values[position] ?? 0) + metricOf(row, metric);
  }
  const ranked = [...groups.entries()]
    .map(([label, values]) => ({ label, values, total: values.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.label.localeCompare(b.label));
  const kept: Series[] = ranked.slice(0, limit).map(({ label, values }) => ({ label, values }));
  const rest = ranked.slice(limit);
  if (rest.length > 0) {
    const other = new Array<number>(axis.length).fill(0);
    for (const series of rest) series.values.forEach((v, i) => (other[i] = (other[i] ?? 0) + v));
    kept.push({ label: "other", values: other });
  }
  return kept;
}

/** Latency percentiles of a set of inference logs (the usage API has no latency). */
export function latencyPercentiles(logs: readonly Pick<LogEntry, "latency_ms">[]): {
  p50: number | null;
  p95: number | null;
} {
  if (logs.length === 0) return { p50: null, p95: null };
  const sorted = logs.map((log) => log.latency_ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
  return { p50: at(0.5), p95: at(0.95) };
}

/** Latency over time from inference logs: the mean per bucket on `axis`. */
export function latencySeries(
  logs: readonly Pick<LogEntry, "latency_ms" | "created_at">[],
  axis: readonly number[],
  bucket: UsageBucket,
): (number | null)[] {
  const step = BUCKET_MS[bucket] / 1000;
  const sums = new Array<number>(axis.length).fill(0);
  const counts = new Array<number>(axis.length).fill(0);
  const first = axis[0];
  if (first === undefined) return [];
  for (const log of logs) {
    const i = Math.floor((Date.parse(log.created_at) / 1000 - first) / step);
    if (i < 0 || i >= axis.length) continue;
    sums[i] = (sums[i] ?? 0) + log.latency_ms;
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return sums.map((sum, i) => ((counts[i] ?? 0) > 0 ? sum / (counts[i] ?? 1) : null));
}
