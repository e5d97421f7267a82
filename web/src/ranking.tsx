/** The supernet's ranking against stand-alone tables: tau, rho, top-k and a scatter of the pairs. */
import { useMemo, useState } from 'preact/hooks';
import { query } from './api.js';
import { Chart, type ChartOption } from './chart.js';
import { fmt } from './format.js';
import { useLatest } from './use-latest.js';

export interface RankingAnalysis {
  analysisId: string;
  position: number;
  step: number;
  table: { name: string; sha256: string | null };
  evaluation: { bnRecalibrationBatches: number; validationImages: number };
  pairs: { key: string; standalone: number; supernet: number }[];
  report: {
    n: number;
    kendallTau: number | null;
    kendallTauStandardError: number | null;
    kendallTauNullStandardError: number | null;
    spearmanRho: number | null;
    spearmanRhoStandardError: number | null;
    topKOverlap: { k: number; overlap: number }[];
  };
}

const withError = (value: number | null, error: number | null) => (error === null ? fmt(value, 3) : `${fmt(value, 3)} ± ${fmt(error, 2)}`);

function scatterOption(a: RankingAnalysis): ChartOption {
  return {
    animation: false,
    grid: { left: 55, right: 20, top: 20, bottom: 45 },
    tooltip: { trigger: 'item', formatter: (p: { data: [number, number, string] }) => `${p.data[2]}: stand-alone ${p.data[0]}%, supernet ${p.data[1]}%` },
    xAxis: { type: 'value', name: 'stand-alone top-1 (%)', nameLocation: 'middle', nameGap: 28, scale: true },
    yAxis: { type: 'value', name: 'supernet top-1 (%)', nameLocation: 'middle', nameGap: 40, scale: true },
    series: [{ type: 'scatter', symbolSize: 9, data: a.pairs.map((p) => [p.standalone, p.supernet, p.key]) }],
  };
}

export function RankingPanel(props: { experimentId: string; at: number | null; tick: number }) {
  const analyses = useLatest<{ analyses: RankingAnalysis[] }>(`/experiments/${encodeURIComponent(props.experimentId)}/rankings${query({ at: props.at })}`, props.tick).value?.analyses ?? null;
  const [open, setOpen] = useState<string | null>(null);
  const shown = analyses?.find((a) => a.analysisId === open) ?? analyses?.[analyses.length - 1];
  const option = useMemo(() => (shown ? scatterOption(shown) : null), [shown]);
  if (!analyses) return <section><h2>Ranking</h2>loading…</section>;
  return (
    <section data-testid="ranking">
      <h2>Ranking against stand-alone training</h2>
      {!shown ? (
        <p>no ranking analysis recorded (npm run bench:ablation records one per supernet)</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th>analysis</th>
                <th>table</th>
                <th>step</th>
                <th>n</th>
                <th>Kendall τ (± SE)</th>
                <th>chance spread of τ</th>
                <th>Spearman ρ (± SE)</th>
                <th>top-k overlap</th>
              </tr>
            </thead>
            <tbody>
              {analyses.map((a) => (
                <tr key={a.analysisId} class={shown === a ? 'selected' : ''} onClick={() => setOpen(a.analysisId)} data-testid={`ranking-${a.analysisId}`}>
                  <td>{a.analysisId}</td>
                  <td>{a.table.name}</td>
                  <td>{a.step + 1}</td>
                  <td>{a.report.n}</td>
                  <td data-testid="ranking-tau">{withError(a.report.kendallTau, a.report.kendallTauStandardError)}</td>
                  <td>{fmt(a.report.kendallTauNullStandardError, 3)}</td>
                  <td data-testid="ranking-rho">{withError(a.report.spearmanRho, a.report.spearmanRhoStandardError)}</td>
                  <td data-testid="ranking-topk">{a.report.topKOverlap.map((t) => `top-${t.k} ${fmt(t.overlap, 2)}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {option && <Chart option={option} height={300} testId="ranking-scatter" />}
        </>
      )}
    </section>
  );
}
