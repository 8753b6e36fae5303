import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link } from "react-router";
import { useApi, useCan } from "../auth/session";
import { formatCount, formatMs, formatUsd } from "../lib/format";
import { rangeWindow } from "../lib/ranges";
import { bucketAxis, latencyPercentiles, seriesBy, totals } from "../lib/usage";
import { TimeChart } from "../ui/Chart";
import { ErrorPanel } from "../ui/ErrorPanel";
import { PageHeader } from "../ui/PageHeader";
import { QueryView } from "../ui/QueryView";

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}

/** The last day at a glance: requests, tokens, errors, latency and cost. */
export function OverviewPage() {
  const api = useApi();
  const can = useCan();
  const window = useMemo(() => rangeWindow("24h"), []);
  const usage = useQuery({
    queryKey: ["usage", "overview", window.start],
    queryFn: () => api.usage({ start: window.start, end: window.end, bucket: "hour" }),
    enabled: can("usage:read"),
  });
  // The usage API has no latency: the newest inference logs stand in for it.
  const logs = useQuery({
    queryKey: ["logs", "overview"],
    queryFn: () => api.logs({ limit: 200 }),
    enabled: can("audit:read"),
  });

  if (!can("usage:read")) {
    return (
      <section>
        <PageHeader title="Overview" />
        <p>Your role cannot read usage. Try the <Link to="/playground">playground</Link>.</p>
      </section>
    );
  }
  const latency = latencyPercentiles(logs.data?.data ?? []);
  return (
    <section>
      <PageHeader title="Overview">
        <span className="muted">Last 24 hours</span>
      </PageHeader>
      <QueryView query={usage}>
        {(report) => {
          const sum = totals(report.data);
          const axis = bucketAxis(report.start, report.end, "hour");
          return (
            <>
              <div className="stats">
                <Stat label="Requests" value={formatCount(sum.requests)} />
                <Stat label="Tokens" value={formatCount(sum.promptTokens + sum.completionTokens)} />
                <Stat label="Errors" value={formatCount(sum.errors)} />
                <Stat label="Latency p50 / p95" value={can("audit:read") ? `${formatMs(latency.p50)} / ${formatMs(latency.p95)}` : "-"} />
                <Stat label="Cost" value={formatUsd(sum.costUsd)} />
              </div>
              <div className="charts">
                <TimeChart title="Requests per hour" axis={axis} series={seriesBy(report.data, axis, "requests", null)} bars />
                <TimeChart title="Tokens per hour" axis={axis} series={seriesBy(report.data, axis, "tokens", null)} format={formatCount} bars />
              </div>
            </>
          );
        }}
      </QueryView>
      {logs.isError ? <ErrorPanel title="Latency" error={logs.error} onRetry={() => void logs.refetch()} /> : null}
    </section>
  );
}
