import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Series } from "../lib/usage";

const PALETTE = ["#4f7cff", "#1fa37a", "#e0892b", "#c94f7c", "#8a63d2", "#2aa1b8", "#8a8f98"];

/** A time-series chart (uPlot: small, fast, canvas). The figure's caption says in
 * words what it shows, for readers that cannot see the canvas. */
export function TimeChart({
  title,
  axis,
  series,
  format = (v) => String(v),
  bars = false,
  summary,
}: {
  title: string;
  axis: number[];
  series: { label: string; values: (number | null)[] }[] | Series[];
  format?: (value: number) => string;
  bars?: boolean;
  /** Overrides the caption's totals (for means, which do not add up). */
  summary?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  // The canvas takes its colours from the theme when drawn: redraw when it changes.
  const [theme, setTheme] = useState(document.documentElement.dataset.theme);
  useEffect(() => {
    const observer = new MutationObserver(() => setTheme(document.documentElement.dataset.theme));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue("--muted").trim() || "#888";
    const grid = style.getPropertyValue("--border").trim() || "#ddd";
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height: 220,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, ticks) => ticks.map(format), size: 60 },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          fill: bars ? `${PALETTE[i % PALETTE.length]}55` : undefined,
          width: 2,
          spanGaps: false,
          paths: bars ? uPlot.paths.bars?.({ size: [0.7, 40], align: 1 }) : undefined,
          points: { show: !bars },
          value: (_u: uPlot, v: number | null) => (v === null ? "-" : format(v)),
        })),
      ],
    };
    const plot = new uPlot(options, [axis, ...series.map((s) => s.values)] as uPlot.AlignedData, element);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(280, element.clientWidth), height: 220 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [axis, series, format, bars, theme]);

  const totals = summary ?? series
    .map((s) => `${s.label}: ${format(s.values.reduce<number>((sum, v) => sum + (v ?? 0), 0))}`)
    .join(", ");
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={container} role="img" aria-label={`${title}. ${totals || "no data"}`} />
    </figure>
  );
}
