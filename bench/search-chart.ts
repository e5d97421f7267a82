/**
 * The search-quality plot of `npm run bench:search` (bench/results/search.svg): the chosen
 * architecture's true accuracy against K per strategy, with +- 1 standard error bars, the exact
 * expectation of random search and the table's best as references. A Vega-Lite spec rendered
 * to SVG by Vega in Node (no canvas, no browser).
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartSeries {
  readonly label: string;
  /** CSS colour */
  readonly color: string;
  readonly points: readonly { readonly k: number; readonly mean: number; readonly standardError: number }[];
}

export interface SearchChart {
  readonly title: string;
  readonly budgets: readonly number[];
  readonly series: readonly ChartSeries[];
  /** E[best true accuracy] of K uniform draws without replacement, per K */
  readonly randomExpectation: readonly { readonly k: number; readonly value: number }[];
  /** the best true accuracy in the table */
  readonly best: number;
}

const RANDOM_REFERENCE = { label: 'random, exact E[max truth]', color: '#7f7f7f' };
const BEST_REFERENCE = { label: 'global best', color: '#000000' };

export async function searchChartSvg(chart: SearchChart): Promise<string> {
  const rows = chart.series.flatMap((s) =>
    s.points.map((p) => ({ series: s.label, k: p.k, mean: p.mean, low: p.mean - p.standardError, high: p.mean + p.standardError })),
  );
  const references = [
    ...chart.randomExpectation.map((r) => ({ series: RANDOM_REFERENCE.label, k: r.k, mean: r.value })),
    ...[chart.budgets[0]!, chart.budgets[chart.budgets.length - 1]!].map((k) => ({ series: BEST_REFERENCE.label, k, mean: chart.best })),
  ];
  const lowest = Math.min(...rows.map((r) => r.low), ...references.map((r) => r.mean));
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
        title: 'true mean accuracy (%)',
        scale: { domain: [Math.floor(lowest * 10) / 10 - 0.1, Math.ceil(chart.best * 10) / 10 + 0.1], zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: {
          domain: [...chart.series.map((s) => s.label), RANDOM_REFERENCE.label, BEST_REFERENCE.label],
          range: [...chart.series.map((s) => s.color), RANDOM_REFERENCE.color, BEST_REFERENCE.color],
        },
        legend: { orient: 'bottom-right', labelLimit: 0 },
      },
    },
    layer: [
      { data: { values: references }, mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 1.5 } },
      {
        data: { values: rows },
        mark: { type: 'errorbar', ticks: true },
        encoding: { y: { field: 'low', type: 'quantitative', title: 'true mean accuracy (%)' }, y2: { field: 'high' } },
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
