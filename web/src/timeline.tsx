/** Loss, L̃ and Q per step with phase bands and checkpoints; sampling probabilities as heatmaps. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, query } from './api.js';
import { Chart, type ChartInstance, type ChartOption, HEAT_COLORS } from './chart.js';
import type { LiveFeed } from './live.js';
import type { HeatmapAnswer, TimelineAnswer } from './types.js';
import { useLatest } from './use-latest.js';

const POINTS = 1000;
const REDRAW_MS = 500;
const PHASE_COLORS: Record<string, string> = { warmup: 'rgba(150,150,150,0.12)', 'tree-building': 'rgba(255,170,0,0.12)', 'mct-sampling': 'rgba(0,150,80,0.12)' };

interface Series {
  bucket: number;
  step: number[];
  count: number[];
  loss: number[];
  movingAverageLoss: number[];
  reward: number[];
}

function toSeries(answer: TimelineAnswer): Series {
  const s = answer.series;
  return { bucket: s.bucket, step: [...s.step], count: s.step.map(() => s.bucket), loss: [...s.loss], movingAverageLoss: [...s.movingAverageLoss], reward: [...s.reward] };
}

/** Adds a reward to the bucket it falls in (the server buckets by floor(step / bucket)). */
function addReward(series: Series, step: number, loss: number, movingAverageLoss: number, reward: number): void {
  const last = series.step.length - 1;
  if (last >= 0 && Math.floor(series.step[last]! / series.bucket) === Math.floor(step / series.bucket)) {
    const n = series.count[last]!;
    series.loss[last] = (series.loss[last]! * n + loss) / (n + 1);
    series.movingAverageLoss[last] = (series.movingAverageLoss[last]! * n + movingAverageLoss) / (n + 1);
    series.reward[last] = (series.reward[last]! * n + reward) / (n + 1);
    series.count[last] = n + 1;
    return;
  }
  series.step.push(step);
  series.count.push(1);
  series.loss.push(loss);
  series.movingAverageLoss.push(movingAverageLoss);
  series.reward.push(reward);
}

const pairs = (x: number[], y: number[]) => x.map((v, i) => [v, y[i]!]);

/** The zoomed window's fine points replace the coarse ones inside it. */
function merged(coarse: Series, fine: Series | null): Series {
  if (!fine || fine.step.length === 0) return coarse;
  const from = fine.step[0]!;
  const to = fine.step[fine.step.length - 1]! + fine.bucket - 1;
  const out: Series = { bucket: coarse.bucket, step: [], count: [], loss: [], movingAverageLoss: [], reward: [] };
  const push = (s: Series, i: number) => {
    out.step.push(s.step[i]!);
    out.count.push(s.count[i]!);
    out.loss.push(s.loss[i]!);
    out.movingAverageLoss.push(s.movingAverageLoss[i]!);
    out.reward.push(s.reward[i]!);
  };
  let f = 0;
  for (let i = 0; i < coarse.step.length; i++) {
    const step = coarse.step[i]!;
    if (step + coarse.bucket - 1 < from) push(coarse, i);
    else if (step > to) {
      for (; f < fine.step.length; f++) push(fine, f);
      push(coarse, i);
    }
  }
  for (; f < fine.step.length; f++) push(fine, f);
  return out;
}

export function LossChart(props: { experimentId: string; at: number | null; feed: LiveFeed | null }) {
  const [answer, setAnswer] = useState<TimelineAnswer | null>(null);
  const [points, setPoints] = useState(0);
  const coarse = useRef<Series | null>(null);
  const fine = useRef<Series | null>(null);
  /** position of the last full read */
  const loadedAt = useRef(0);
  const chart = useRef<ChartInstance | null>(null);
  const redraw = useRef<number | null>(null);
  const base = `/experiments/${encodeURIComponent(props.experimentId)}/timeline`;

  const draw = () => {
    redraw.current = null;
    const data = coarse.current ? merged(coarse.current, fine.current) : null;
    if (!chart.current || !data) return;
    setPoints(data.step.length);
    chart.current.setOption({
      series: [
        { id: 'loss', data: pairs(data.step, data.loss) },
        { id: 'ltilde', data: pairs(data.step, data.movingAverageLoss) },
        { id: 'reward', data: pairs(data.step, data.reward) },
      ],
    });
  };
  const scheduleDraw = () => {
    if (redraw.current === null) redraw.current = window.setTimeout(draw, REDRAW_MS);
  };

  useEffect(() => {
    let cancelled = false;
    fine.current = null;
    void api<TimelineAnswer>(`${base}${query({ points: POINTS, at: props.at })}`).then((a) => {
      if (cancelled) return;
      coarse.current = toSeries(a);
      loadedAt.current = a.position;
      setAnswer(a);
    });
    return () => {
      cancelled = true;
    };
  }, [props.experimentId, props.at]);

  useEffect(() => {
    if (!props.feed) return;
    let refetching = false;
    return props.feed.subscribe((events) => {
      const series = coarse.current;
      if (!series) return;
      let added = false;
      for (const event of events) {
        // What the last full read already holds is skipped.
        if (event.position <= loadedAt.current) continue;
        if (event.type === 'RewardRecorded') {
          const d = event.data as { step: number; loss: number; movingAverageLoss: number; reward: number };
          addReward(series, d.step, d.loss, d.movingAverageLoss, d.reward);
          added = true;
        } else if ((event.type === 'PhaseChanged' || event.type === 'CheckpointSaved') && !refetching) {
          // Marks change rarely: take them (and the bucketing) from the server again.
          refetching = true;
          void api<TimelineAnswer>(`${base}${query({ points: POINTS })}`).then((a) => {
            refetching = false;
            coarse.current = toSeries(a);
            loadedAt.current = a.position;
            setAnswer(a);
          });
        }
      }
      if (added && series.step.length > 2 * POINTS && !refetching) {
        refetching = true;
        void api<TimelineAnswer>(`${base}${query({ points: POINTS })}`).then((a) => {
          refetching = false;
          coarse.current = toSeries(a);
          loadedAt.current = a.position;
          scheduleDraw();
        });
      }
      if (added) scheduleDraw();
    });
  }, [props.feed]);

  const option = useMemo<ChartOption | null>(() => {
    if (!answer || !coarse.current) return null;
    const data = merged(coarse.current, fine.current);
    const bands = answer.phases.map((p) => [
      { name: p.phase, xAxis: p.fromStep, itemStyle: { color: PHASE_COLORS[p.phase] ?? 'rgba(0,0,255,0.08)' } },
      { xAxis: p.toStep ?? answer.totalTrainingSteps },
    ]);
    return {
      animation: false,
      legend: { top: 0 },
      tooltip: { trigger: 'axis' },
      grid: { left: 50, right: 50, top: 30, bottom: 60 },
      xAxis: { type: 'value', name: 'step', min: 0, max: answer.totalTrainingSteps },
      yAxis: [
        { type: 'value', name: 'loss', scale: true },
        { type: 'value', name: 'Q', scale: true, splitLine: { show: false } },
      ],
      dataZoom: [
        { type: 'inside', filterMode: 'none' },
        { type: 'slider', filterMode: 'none', height: 18, bottom: 8 },
      ],
      series: [
        {
          id: 'loss',
          name: 'loss',
          type: 'line',
          showSymbol: false,
          sampling: 'lttb',
          lineStyle: { width: 1 },
          data: pairs(data.step, data.loss),
          markArea: { silent: true, label: { position: 'insideTop', fontSize: 10 }, data: bands },
          markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted', color: '#888' }, label: { show: false }, data: answer.checkpoints.map((c) => ({ xAxis: c.step })) },
        },
        { id: 'ltilde', name: 'L̃ (moving average)', type: 'line', showSymbol: false, lineStyle: { width: 2 }, data: pairs(data.step, data.movingAverageLoss) },
        { id: 'reward', name: 'Q (reward)', type: 'line', yAxisIndex: 1, showSymbol: false, sampling: 'lttb', lineStyle: { width: 1 }, data: pairs(data.step, data.reward) },
      ],
    };
  }, [answer]);

  const onReady = (instance: ChartInstance) => {
    chart.current = instance;
    let zoomTimer: number | null = null;
    instance.on('datazoom', () => {
      if (zoomTimer !== null) clearTimeout(zoomTimer);
      zoomTimer = window.setTimeout(() => {
        const zoom = (instance.getOption() as { dataZoom: { startValue?: number; endValue?: number }[] }).dataZoom[0]!;
        const total = coarse.current;
        if (!total || zoom.startValue === undefined || zoom.endValue === undefined) return;
        const from = Math.max(0, Math.floor(zoom.startValue));
        const to = Math.ceil(zoom.endValue);
        if ((to - from) / POINTS >= total.bucket) {
          fine.current = null;
          draw();
          return;
        }
        void api<TimelineAnswer>(`${base}${query({ fromStep: from, toStep: to, points: POINTS, at: props.at })}`).then((a) => {
          fine.current = toSeries(a);
          draw();
        });
      }, 200);
    });
  };

  return (
    <section>
      <h2>
        Training loss, L̃ and reward Q{' '}
        <small data-testid="chart-points" data-points={points || (coarse.current?.step.length ?? 0)}>
          {answer ? `${answer.series.bucket} step(s) per point; phases shaded, checkpoints dotted` : 'loading…'}
        </small>
      </h2>
      {option && <Chart option={option} height={300} testId="loss-chart" merge onReady={onReady} />}
    </section>
  );
}

/** Sampling probabilities (layer x op): the newest step's matrix and one layer over time. */
export function Probabilities(props: { experimentId: string; at: number | null; tick: number }) {
  const answer = useLatest<HeatmapAnswer>(`/experiments/${encodeURIComponent(props.experimentId)}/timeline/heatmaps${query({ points: 150, at: props.at })}`, props.tick).value;
  const [layer, setLayer] = useState(0);
  const charts = useMemo(() => {
    const frames = answer?.frames;
    const newest = frames?.probabilities[frames.probabilities.length - 1];
    if (!frames || !newest || newest.length === 0) return null;
    const ops = Math.max(...newest.map((row) => row.length));
    const chosen = Math.min(layer, newest.length - 1);
    const current: ChartOption = {
      animation: false,
      tooltip: {},
      grid: { left: 50, right: 10, top: 10, bottom: 40 },
      xAxis: { type: 'category', name: 'op', data: [...Array(ops).keys()].map(String) },
      yAxis: { type: 'category', name: 'layer', inverse: true, data: newest.map((_, l) => String(l)) },
      visualMap: { min: 0, max: 1, show: false, inRange: { color: HEAT_COLORS } },
      series: [{ type: 'heatmap', data: newest.flatMap((row, l) => row.map((p, o) => [o, l, Number(p.toFixed(3))])), label: { show: ops <= 8, fontSize: 9 } }],
    };
    const overTime: ChartOption = {
      animation: false,
      tooltip: {},
      grid: { left: 50, right: 10, top: 10, bottom: 40 },
      xAxis: { type: 'category', name: 'step', data: frames.step.map(String) },
      yAxis: { type: 'category', name: 'op', data: [...Array(newest[chosen]!.length).keys()].map(String) },
      visualMap: { min: 0, max: 1, show: false, inRange: { color: HEAT_COLORS } },
      series: [{ type: 'heatmap', data: frames.probabilities.flatMap((frame, i) => (frame[chosen] ?? []).map((p, o) => [i, o, Number(p.toFixed(3))])) }],
    };
    return { frames, newest, chosen, current, overTime };
  }, [answer, layer]);
  if (!answer) return <section><h2>Sampling probabilities</h2>loading…</section>;
  if (!charts) return <section><h2>Sampling probabilities</h2><p data-testid="prob-none">no probabilities recorded yet</p></section>;
  const { frames, newest, chosen, current, overTime } = charts;
  return (
    <section class="two">
      <div>
        <h2>Sampling probabilities at step {frames.step[frames.step.length - 1]}</h2>
        <Chart option={current} height={Math.max(160, newest.length * 18 + 50)} testId="prob-now" />
      </div>
      <div>
        <h2>
          Layer{' '}
          <select value={chosen} onChange={(e) => setLayer(Number((e.target as HTMLSelectElement).value))}>
            {newest.map((_, l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>{' '}
          over time <small>(every {frames.stride} steps)</small>
        </h2>
        <Chart option={overTime} height={Math.max(160, newest.length * 18 + 50)} testId="prob-time" />
      </div>
    </section>
  );
}
