import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesPoint } from "./api.js";

export interface ChartProps {
  title: string;
  points: SeriesPoint[];
  value: (p: SeriesPoint) => number;
  unit: string;
  color: string;
}

/** One live line chart (uPlot) of a series field. */
export function Chart({ title, points, value, unit, color }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      width: Math.max(260, el.current.clientWidth),
      height: 150,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: "#667" }, { stroke: "#667", size: 76, values: (_u, ticks) => ticks.map((t) => `${t}${unit}`) }],
      series: [{}, { stroke: color, width: 1.5, fill: `${color}22` }],
    };
    plot.current = new uPlot(opts, [[], []], el.current);
    const ro = new ResizeObserver(() => {
      if (el.current && plot.current) plot.current.setSize({ width: Math.max(260, el.current.clientWidth), height: 150 });
    });
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [unit, color]);

  useEffect(() => {
    plot.current?.setData([points.map((p) => p.t / 1000), points.map(value)]);
  }, [points, value]);

  const last = points[points.length - 1];
  return (
    <div class="chart">
      <div class="chart-title">
        {title} <span class="muted">{last ? `${value(last).toFixed(value(last) >= 100 ? 0 : 2)}${unit}` : ""}</span>
      </div>
      <div ref={el} />
    </div>
  );
}
