/**
 * Accuracy of a search's choice against K (full evaluations), one line per series with +- 1
 * standard error bars, dashed reference lines: the plot of `npm run bench:search`
 * (bench/results/search.svg: per strategy, with random search's exact expectation and the
 * table's best) and of `npm run bench:ablation` (bench/results/ablation.svg: the choice's
 * stand-alone and supernet accuracy). A Vega-Lite spec rendered to SVG by Vega in Node (no
 * canvas, no browser).
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartSeries {
  readonly label: string;
  /** CSS colour */
  readonly color: string;
  readonly points: readonly { readonly k: number; readonly mean: number; readonly standardError: number }[];
}

/** A dashed line without error bars (an expectation, a table's best). */
export interface ChartReference {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly k: number; readonly value: number }[];
}

export interface SearchChart {
  readonly title: string;
  readonly yTitle: string;
  readonly budgets: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly references: readonly ChartReference[];
}

/** A constant reference over the whole K axis. */
export function constantReference(label: string, color: string, budgets: readonly number[], value: number): ChartReference {
  return { label, color, points: [budgets[0]!, budgets[budgets.length - 1]!].map((k) => ({ k, value })) };
}

export async function searchChartSvg(chart: SearchChart): Promise<string> {
  const rows = chart.series.flatMap((s) =>
    s.points.map((p) => ({ series: s.label, k: p.k, mean: p.mean, low: p.mean - p.standardError, high: p.mean + p.standardError })),
  );
  const references = chart.references.flatMap((r) => r.points.map((p) => ({ series: r.label, k: p.k, mean: p.value })));
  const lowest = Math.min(...rows.map((r) => r.low), ...references.map((r) => r.mean));
  const highest = Math.max(...rows.map((r) => r.high), ...references.map((r) => r.mean));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 720,
    height: 440,
    background: 'white',
    // shared by the layers: the error bars replace y by their low..high range
    encoding: {
      x: {
        field: 'k',
        type: 'quantitative',
        title: 'K (full evaluations); bars: +- 1 standard error',
        scale: { type: 'log', domain: [chart.budgets[0]! * 0.9, chart.budgets[chart.budgets.length - 1]! * 1.1] },
        axis: { values: [...chart.budgets], grid: true },
      },
      y: {
        field: 'mean',
        type: 'quantitative',
        title: chart.yTitle,
        scale: { domain: [Math.floor(lowest * 10) / 10 - 0.1, Math.ceil(highest * 10) / 10 + 0.1], zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: {
          domain: [...chart.series.map((s) => s.label), ...chart.references.map((r) => r.label)],
          range: [...chart.series.map((s) => s.color), ...chart.references.map((r) => r.color)],
        },
        legend: { orient: 'bottom-right', labelLimit: 0 },
      },
    },
    layer: [
      { data: { values: references }, mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 1.5 } },
      {
        data: { values: rows },
        mark: { type: 'errorbar', ticks: true },
        encoding: { y: { field: 'low', type: 'quantitative', title: chart.yTitle }, y2: { field: 'high' } },
      },
      { data: { values: rows }, mark: { type: 'line', point: { filled: true, size: 50 }, strokeWidth: 2 } },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
