/** The search results, the what-if replay and the event log. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, query } from './api.js';
import { arch, fmt, si } from './format.js';
import type { ExperimentStatus } from './types.js';
import { useLatest } from './use-latest.js';

interface SearchSummary {
  searchId: string;
  strategy: string;
  candidates: number;
  topK: number;
  validationBatchEvaluations: number;
  removed: Record<string, number>;
  evaluations: { candidate: number; architecture: number[]; top1: number; loss: number; flops: number; params: number }[];
  result: { best: { architecture: number[]; top1: number } } | null;
}

export function SearchPanel(props: { experimentId: string; at: number | null; tick: number }) {
  const searches = useLatest<{ searches: SearchSummary[] }>(`/experiments/${encodeURIComponent(props.experimentId)}/search${query({ at: props.at })}`, props.tick).value?.searches ?? null;
  const [open, setOpen] = useState<string | null>(null);
  if (!searches) return <section><h2>Search</h2>loading…</section>;
  const shown = searches.find((s) => s.searchId === open) ?? searches[searches.length - 1];
  return (
    <section data-testid="search">
      <h2>Search {searches.length > 1 && <small>({searches.length} searches side by side)</small>}</h2>
      {searches.length === 0 ? (
        <p>no search yet</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th>search</th>
                <th>strategy</th>
                <th>candidates</th>
                <th>validation batches</th>
                <th>removed</th>
                <th>chosen</th>
                <th>top-1</th>
                <th>FLOPs</th>
                <th>params</th>
              </tr>
            </thead>
            <tbody>
              {searches.map((s) => {
                const best = s.result?.best;
                const evaluated = best ? s.evaluations.find((e) => arch(e.architecture) === arch(best.architecture)) : undefined;
                return (
                  <tr key={s.searchId} class={shown === s ? 'selected' : ''} onClick={() => setOpen(s.searchId)}>
                    <td>{s.searchId}</td>
                    <td>{s.strategy}</td>
                    <td>{s.candidates}</td>
                    <td>{s.validationBatchEvaluations}</td>
                    <td>{Object.entries(s.removed).map(([reason, n]) => `${reason}: ${n}`).join(', ') || '–'}</td>
                    <td>{best ? arch(best.architecture) : 'running'}</td>
                    <td>{best ? `${fmt(best.top1)}%` : '–'}</td>
                    <td>{si(evaluated?.flops)}</td>
                    <td>{si(evaluated?.params)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {shown && (
            <details>
              <summary>{shown.evaluations.length} candidates evaluated by {shown.searchId}</summary>
              <table>
                <thead>
                  <tr>
                    <th>#</th>
                    <th>architecture</th>
                    <th>top-1</th>
                    <th>loss</th>
                    <th>FLOPs</th>
                    <th>params</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.evaluations.map((e) => (
                    <tr key={e.candidate}>
                      <td>{e.candidate}</td>
                      <td>{arch(e.architecture)}</td>
                      <td>{fmt(e.top1)}%</td>
                      <td>{fmt(e.loss)}</td>
                      <td>{si(e.flops)}</td>
                      <td>{si(e.params)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </>
      )}
    </section>
  );
}

interface WhatIfAnswer {
  position: number;
  report: {
    training: {
      rewardedSteps: number;
      tree: {
        identical: boolean;
        nodes: { recorded: number; alternative: number; onlyRecorded: number; onlyAlternative: number; changed: number };
        maxAbsVisitDiff: number;
        maxAbsQbarDiff: number;
        topLeaves: { recorded: { architecture: number[]; n: number; qbar: number }[]; alternative: { architecture: number[]; n: number; qbar: number }[]; common: number };
      };
    };
    search: { recorded: { best: { architecture: number[]; top1: number } | null }; alternative: { best: { architecture: number[]; top1: number } | null } } | null;
    notes: string[];
  };
}

const KNOBS = [
  ['beta', 'β'],
  ['gamma', 'γ'],
  ['c1', 'C1'],
  ['c2', 'C2'],
  ['tau', 'τ'],
  ['nThreshold', 'n_thrd'],
] as const;
const SCHEDULE = ['warmupSteps', 'treeBuildingSteps', 'mctSteps'] as const;

export function WhatIfPanel(props: { status: ExperimentStatus; at: number | null }) {
  const recorded = props.status.config.hyperparameters;
  const schedule = props.status.config.schedule;
  const [values, setValues] = useState<Record<string, string>>({});
  const [answer, setAnswer] = useState<WhatIfAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const run = async (event: Event) => {
    event.preventDefault();
    const hyperparameters: Record<string, number> = {};
    for (const [key] of KNOBS) if (values[key] !== undefined && values[key] !== '') hyperparameters[key] = Number(values[key]);
    const changedSchedule = SCHEDULE.some((key) => values[key] !== undefined && values[key] !== '');
    const body: Record<string, unknown> = { hyperparameters, topLeaves: 5, ...(props.at ? { at: props.at } : {}) };
    if (changedSchedule) body.schedule = { ...schedule, ...Object.fromEntries(SCHEDULE.filter((k) => values[k]).map((k) => [k, Number(values[k])])) };
    setRunning(true);
    setError(null);
    try {
      setAnswer(await api<WhatIfAnswer>(`/experiments/${encodeURIComponent(props.status.id)}/replay`, { method: 'POST', body }));
    } catch (e) {
      setError(e instanceof ApiError ? `${e.body?.field ? `${e.body.field}: ` : ''}${e.message}` : String(e));
    } finally {
      setRunning(false);
    }
  };
  const tree = answer?.report.training.tree;
  return (
    <section data-testid="what-if">
      <h2>What-if replay <small>(recomputes the tree from the recorded losses; writes nothing)</small></h2>
      <form onSubmit={run} class="knobs">
        {KNOBS.map(([key, label]) => (
          <label key={key}>
            {label} <input size={7} placeholder={String(recorded[key])} value={values[key] ?? ''} onInput={(e) => setValues({ ...values, [key]: (e.target as HTMLInputElement).value })} data-testid={`whatif-${key}`} />
          </label>
        ))}
        {SCHEDULE.map((key) => (
          <label key={key}>
            {key} <input size={7} placeholder={String(schedule[key])} value={values[key] ?? ''} onInput={(e) => setValues({ ...values, [key]: (e.target as HTMLInputElement).value })} />
          </label>
        ))}
        <button type="submit" disabled={running} data-testid="whatif-run">
          {running ? 'replaying…' : 'Replay'}
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      {tree && answer && (
        <div data-testid="whatif-result">
          <p data-testid="whatif-summary">
            {tree.identical ? 'identical tree' : 'the tree differs'}: {tree.nodes.changed} nodes changed, {tree.nodes.onlyRecorded} only recorded, {tree.nodes.onlyAlternative} only in the replay; max |Δn| {tree.maxAbsVisitDiff}, max |ΔQ̄| {fmt(tree.maxAbsQbarDiff)} ({answer.report.training.rewardedSteps} steps replayed)
          </p>
          <div class="two">
            <LeafList title="recorded top leaves" leaves={tree.topLeaves.recorded} />
            <LeafList title="replayed top leaves" leaves={tree.topLeaves.alternative} />
          </div>
          {answer.report.search && (
            <p>
              chosen: recorded {arch(answer.report.search.recorded.best?.architecture)} → replay {arch(answer.report.search.alternative.best?.architecture)}
            </p>
          )}
          {answer.report.notes.length > 0 && <ul>{answer.report.notes.map((n) => <li key={n}>{n}</li>)}</ul>}
        </div>
      )}
    </section>
  );
}

function LeafList(props: { title: string; leaves: { architecture: number[]; n: number; qbar: number }[] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      <ol>
        {props.leaves.map((leaf) => (
          <li key={arch(leaf.architecture)}>
            {arch(leaf.architecture)} n={leaf.n} Q̄={fmt(leaf.qbar)}
          </li>
        ))}
      </ol>
    </div>
  );
}

interface EventsAnswer {
  events: { position: number; streamVersion: number; type: string; data: Record<string, unknown>; metadata: { step?: number; workerId?: string }; createdAt: string }[];
  next: number | null;
}

const EVENT_TYPES = ['', 'ExperimentCreated', 'PhaseChanged', 'ArchitectureSampled', 'RewardRecorded', 'VisitCountsUpdated', 'CheckpointSaved', 'WorkerLeaseAcquired', 'SearchStarted', 'CandidateEvaluated', 'SearchCompleted', 'RankingAnalysisRecorded'];

export function EventLog(props: { experimentId: string; tick: number }) {
  const [type, setType] = useState('');
  const [fromStep, setFromStep] = useState('');
  const [toStep, setToStep] = useState('');
  const [pages, setPages] = useState<number[]>([0]);
  const after = pages[pages.length - 1]!;
  useEffect(() => setPages([0]), [type, fromStep, toStep]);
  // live ticks refresh the first page only: a later page stays where the reader paged to
  const { value: answer, error: failure } = useLatest<EventsAnswer>(`/experiments/${encodeURIComponent(props.experimentId)}/events${query({ type, fromStep, toStep, after, limit: 25 })}`, pages.length === 1 ? props.tick : 0);
  const error = failure === null ? null : failure instanceof ApiError ? `${failure.body?.field}: ${failure.message}` : String(failure);
  return (
    <section data-testid="events">
      <h2>Event log</h2>
      <div class="knobs">
        <label>
          type
          <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)} data-testid="events-type">
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t || 'all'}
              </option>
            ))}
          </select>
        </label>
        <label>
          from step <input size={6} value={fromStep} onInput={(e) => setFromStep((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          to step <input size={6} value={toStep} onInput={(e) => setToStep((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {error && <p class="error">{error}</p>}
      {answer && (
        <>
          <table>
            <thead>
              <tr>
                <th>position</th>
                <th>type</th>
                <th>step</th>
                <th>worker</th>
                <th>data</th>
              </tr>
            </thead>
            <tbody>
              {answer.events.map((e) => (
                <tr key={e.position}>
                  <td>{e.position}</td>
                  <td>{e.type}</td>
                  <td>{e.metadata.step ?? (e.data.step as number | undefined) ?? '–'}</td>
                  <td>{e.metadata.workerId ?? '–'}</td>
                  <td class="data">{JSON.stringify(e.data).slice(0, 160)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager">
            <button disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
              ‹ previous
            </button>
            <span>page {pages.length}</span>
            <button disabled={answer.next === null} onClick={() => setPages([...pages, answer.next!])}>
              next ›
            </button>
          </div>
        </>
      )}
    </section>
  );
}
