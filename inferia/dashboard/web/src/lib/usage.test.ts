import { describe, expect, it } from "vitest";
import type { UsageRow } from "../api/types";
import { bucketAxis, bucketStart, latencyPercentiles, latencySeries, seriesBy, totals } from "./usage";

const row = (bucket: string, model: string, requests: number, tokens = 10, cost = 0): UsageRow => ({
  bucket,
  model,
  requests,
  errors: 0,
  prompt_tokens: tokens,
  completion_tokens: 0,
  cost_usd: cost,
});

describe("usage shaping", () => {
  it("reads the API's UTC bucket labels", () => {
    expect(bucketStart("2026-12-07T19")).toBe(Date.UTC(2026, 11, 7, 19) / 1000);
    expect(bucketStart("2026-12-07T19:32")).toBe(Date.UTC(2026, 11, 7, 19, 32) / 1000);
    expect(bucketStart("2026-12-07")).toBe(Date.UTC(2026, 11, 7) / 1000);
    expect(bucketStart("2026-12")).toBe(Date.UTC(2026, 11, 1) / 1000);
  });

  it("fills every bucket of the range, so quiet hours are zeros", () => {
    const axis = bucketAxis("2026-12-07T10:30:00Z", "2026-12-07T13:00:00Z", "hour");
    expect(axis).toEqual([10, 11, 12, 13].map((h) => Date.UTC(2026, 11, 7, h) / 1000));
    const series = seriesBy([row("2026-12-07T11", "m", 3)], axis, "requests", null);
    expect(series).toEqual([{ label: "all", values: [0, 3, 0, 0] }]);
    expect(bucketAxis("2026-11-15T00:00:00Z", "2027-01-02T00:00:00Z", "month")).toHaveLength(3);
  });

  it("splits by a dimension, largest first, the tail summed as other", () => {
    const axis = [Date.UTC(2026, 11, 7, 10) / 1000];
    const rows = [row("2026-12-07T10", "a", 1), row("2026-12-07T10", "b", 5), row("2026-12-07T10", "c", 2)];
    expect(seriesBy(rows, axis, "requests", "model", 2)).toEqual([
      { label: "b", values: [5] },
      { label: "c", values: [2] },
      { label: "other", values: [1] },
    ]);
    expect(seriesBy(rows, axis, "tokens", "model")[0]).toEqual({ label: "a", values: [10] });
  });

  it("sums totals and latency percentiles", () => {
    expect(totals([row("x", "a", 2, 5, 0.5), row("x", "b", 3, 7, 0.25)])).toEqual({
      requests: 5,
      errors: 0,
      promptTokens: 12,
      completionTokens: 0,
      costUsd: 0.75,
    });
    const logs = [10, 20, 30, 40, 1000].map((latency_ms) => ({ latency_ms }));
    expect(latencyPercentiles(logs)).toEqual({ p50: 30, p95: 1000 });
    expect(latencyPercentiles([])).toEqual({ p50: null, p95: null });
  });

  it("averages latency per bucket, with gaps where nothing ran", () => {
    const axis = [0, 3600];
    const logs = [
      { latency_ms: 10, created_at: "1970-01-01T00:10:00Z" },
      { latency_ms: 30, created_at: "1970-01-01T00:50:00Z" },
    ];
    expect(latencySeries(logs, axis, "hour")).toEqual([20, null]);
  });
});
