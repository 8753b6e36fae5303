import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { UsageRow } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatCount, formatMs, formatUsd, shortId } from "../lib/format";
import { RANGES, rangeWindow, type RangeKey } from "../lib/ranges";
import { bucketAxis, latencySeries, seriesBy, totals } from "../lib/usage";
import { TimeChart } from "../ui/Chart";
import { Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { QueryView } from "../ui/QueryView";

type Grouping = "none" | "model" | "key" | "user";
const GROUP_KEY = { none: null, model: "model", key: "key_id", user: "user_id" } as const;

function GroupTable({ rows, grouping, names }: { rows: UsageRow[]; grouping: Grouping; names: (id: string) => string }) {
  const key = GROUP_KEY[grouping];
  if (key === null) return null;
  const groups = new Map<string, UsageRow[]>();
  for (const row of rows) {
    const label = row[key] ?? "(none)";
    groups.set(label, [...(groups.get(label) ?? []), row]);
  }
  const lines = [...groups.entries()].map(([label, group]) => ({ label, sum: totals(group) })).sort((a, b) => b.sum.requests - a.sum.requests);
  return (
    <table>
      <caption>By {grouping}</caption>
      <thead>
        <tr>
          <th scope="col">{grouping}</th>
          <th scope="col">Requests</th>
          <th scope="col">Errors</th>
          <th scope="col">Prompt tokens</th>
          <th scope="col">Completion tokens</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {lines.map(({ label, sum }) => (
          <tr key={label}>
            <td>{grouping === "model" ? label : names(label)}</td>
            <td>{sum.requests}</td>
            <td>{sum.errors}</td>
            <td>{sum.promptTokens}</td>
            <td>{sum.completionTokens}</td>
            <td>{formatUsd(sum.costUsd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function UsagePage() {
  const api = useApi();
  const can = useCan();
  const [range, setRange] = useState<RangeKey>("24h");
  const [grouping, setGrouping] = useState<Grouping>("model");
  const window = useMemo(() => rangeWindow(range), [range]);
  const groupBy = grouping === "none" ? undefined : grouping;
  const usage = useQuery({
    queryKey: ["usage", window.start, window.bucket, groupBy],
    queryFn: () => api.usage({ start: window.start, end: window.end, bucket: window.bucket, group_by: groupBy }),
  });
  const logs = useQuery({ queryKey: ["logs", "latency"], queryFn: () => api.logs({ limit: 200 }), enabled: can("audit:read") });
  const keys = useQuery({ queryKey: ["api-keys", true], queryFn: () => api.apiKeys(true), enabled: can("api_keys:read") });
  const members = useQuery({ queryKey: ["members"], queryFn: api.members, enabled: can("members:read") });
  const names = (id: string) =>
    keys.data?.data.find((k) => k.id === id)?.name ?? members.data?.data.find((m) => m.user_id === id)?.email ?? shortId(id);

  return (
    <section>
      <PageHeader title="Usage" />
      <div className="toolbar">
        <Select
          label="Range"
          value={range}
          options={Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label }))}
          onChange={(value) => setRange(value as RangeKey)}
        />
        <Select
          label="Group by"
          value={grouping}
          options={[
            { value: "none", label: "nothing" },
            { value: "model", label: "model" },
            { value: "key", label: "API key" },
            { value: "user", label: "user" },
          ]}
          onChange={(value) => setGrouping(value as Grouping)}
        />
      </div>
      <QueryView query={usage}>
        {(report) => {
          const axis = bucketAxis(report.start, report.end, report.bucket);
          const key = GROUP_KEY[grouping];
          const label = (series: { label: string; values: number[] }[]) =>
            grouping === "model" ? series : series.map((s) => ({ ...s, label: names(s.label) }));
          const latency = latencySeries(logs.data?.data ?? [], axis, report.bucket);
          return (
            <>
              <div className="charts">
                <TimeChart title="Requests" axis={axis} series={label(seriesBy(report.data, axis, "requests", key))} bars />
                <TimeChart title="Tokens" axis={axis} series={label(seriesBy(report.data, axis, "tokens", key))} format={formatCount} bars />
                <TimeChart title="Cost (USD)" axis={axis} series={label(seriesBy(report.data, axis, "cost_usd", key))} format={formatUsd} bars />
                {can("audit:read") ? (
                  <TimeChart
                    title="Mean latency (newest 200 requests)"
                    axis={axis}
                    series={[{ label: "latency", values: latency }]}
                    format={formatMs}
                    summary="mean latency per bucket"
                  />
                ) : null}
              </div>
              <GroupTable rows={report.data} grouping={grouping} names={names} />
            </>
          );
        }}
      </QueryView>
    </section>
  );
}
