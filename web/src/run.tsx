/** One run: status, time travel, live charts, probabilities, tree, ledger, G, search, ranking, what-if, events. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, listExperiments, type StreamState } from './api.js';
import { fmt } from './format.js';
import { LiveFeed } from './live.js';
import { EventLog, SearchPanel, WhatIfPanel } from './panels.js';
import { RankingPanel } from './ranking.js';
import { LossChart, Probabilities } from './timeline.js';
import { TreePanel } from './tree.js';
import type { ExperimentStatus } from './types.js';

/** Panels re-read at most this often while events arrive (the loss chart follows every event). */
const REFRESH_MS = 2000;

export function runHash(id: string, at: number | null): string {
  return `#/runs/${encodeURIComponent(id)}${at ? `?at=${at}` : ''}`;
}

/** The gap-safe checkpoint (`txid:position`) of the experiment's newest event. */
async function headCheckpoint(id: string): Promise<string | undefined> {
  const base = `/experiments/${encodeURIComponent(id)}`;
  const { version } = await api<{ version: number }>(`${base}/events?limit=1`);
  const page = await api<{ events: { checkpoint: string }[] }>(`${base}/events?after=${Math.max(0, version - 1)}&limit=1`);
  return page.events[0]?.checkpoint;
}

export function RunPage(props: { id: string; at: number | null }) {
  const { id, at } = props;
  const [status, setStatus] = useState<ExperimentStatus | null>(null);
  const [head, setHead] = useState<number | null>(null);
  const [created, setCreated] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const [feed, setFeed] = useState<LiveFeed | null>(null);
  const [stream, setStream] = useState<StreamState>('closed');
  const [tick, setTick] = useState(0);
  const [searchTick, setSearchTick] = useState(0);
  const [received, setReceived] = useState(0);
  const base = `/experiments/${encodeURIComponent(id)}`;

  useEffect(() => {
    void listExperiments().then((list) => setCreated(list.find((e) => e.id === id)?.position ?? 1));
  }, [id]);

  useEffect(() => {
    let cancelled = false;
    api<ExperimentStatus>(`${base}${at ? `?at=${at}` : ''}`)
      .then((s) => {
        if (cancelled) return;
        setStatus(s);
        setError(null);
        if (!at) setHead(s.position);
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
    if (at) void api<ExperimentStatus>(base).then((s) => !cancelled && setHead(s.position));
    return () => {
      cancelled = true;
    };
  }, [id, at, tick]);

  // Live: one SSE feed while viewing now; panels re-read at most once a second.
  useEffect(() => {
    if (at) {
      setFeed(null);
      setStream('closed');
      return;
    }
    // Start from the stream's newest event: the panels read everything before it themselves.
    const live = new LiveFeed(id, headCheckpoint(id));
    setFeed(live);
    let timer: number | null = null;
    // Nothing here re-renders per event: the page (and every panel) re-reads once a second at
    // most, and only the loss chart follows each event (in LossChart, without re-rendering).
    const unsubscribe = live.subscribe((events) => {
      if (events.some((e) => e.type.startsWith('Search') || e.type.startsWith('Candidate') || e.type === 'RankingAnalysisRecorded')) setSearchTick((t) => t + 1);
      if (timer === null && events.length > 0) {
        timer = window.setTimeout(() => {
          timer = null;
          setReceived(live.received);
          setTick((t) => t + 1);
        }, REFRESH_MS);
      }
    });
    const unstate = live.onState(setStream);
    (window as unknown as { __mctnasFeed?: LiveFeed }).__mctnasFeed = live;
    return () => {
      unsubscribe();
      unstate();
      if (timer !== null) clearTimeout(timer);
      live.close();
    };
  }, [id, at]);

  if (error) return <main><p class="error">{error}</p><a href="#/">all experiments</a></main>;
  if (!status) return <main>loading…</main>;
  return (
    <main>
      <p>
        <a href="#/">all experiments</a>
      </p>
      <h1 data-testid="run-name">{status.name}</h1>
      <p class="status" data-testid="run-status">
        <span>{status.lifecycle}</span> · <span>phase {status.phase ?? '–'}</span> ·{' '}
        <span data-testid="run-step">
          step {status.lastRewardedStep + 1} / {status.totalTrainingSteps}
        </span>{' '}
        · L̃ {fmt(status.movingAverageLoss)} · {status.tree.nodes} nodes · lease {status.lease?.active ? status.lease.workerId : '–'} · checkpoint{' '}
        {status.newestCheckpoint ? `step ${status.newestCheckpoint.step}` : '–'} ·{' '}
        <span data-testid="stream-state" class={`stream ${stream}`}>
          {at ? `as of position ${at}` : `${stream} (${received} events)`}
        </span>
      </p>
      <TimeTravel id={id} at={at} min={created} head={head ?? status.position} />
      <LossChart experimentId={id} at={at} feed={feed} />
      <Probabilities experimentId={id} at={at} tick={tick} />
      <TreePanel experimentId={id} at={at} tick={tick} />
      <SearchPanel experimentId={id} at={at} tick={searchTick} />
      <RankingPanel experimentId={id} at={at} tick={searchTick} />
      <WhatIfPanel status={status} at={at} />
      <EventLog experimentId={id} tick={tick} />
    </main>
  );
}

/** The position slider and "go to step N"; the position lives in the URL (`?at=`). */
function TimeTravel(props: { id: string; at: number | null; min: number; head: number }) {
  const [value, setValue] = useState(props.at ?? props.head);
  const [step, setStep] = useState('');
  const [error, setError] = useState<string | null>(null);
  const dragging = useRef(false);
  useEffect(() => {
    if (!dragging.current) setValue(props.at ?? props.head);
  }, [props.at, props.head]);
  const go = (position: number | null) => {
    location.hash = runHash(props.id, position !== null && position >= props.head && !props.at ? null : position);
  };
  const goToStep = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const record = await api<{ sampledAt: number; visits: { position: number } | null; reward: { position: number } | null }>(
        `/experiments/${encodeURIComponent(props.id)}/timeline/steps/${encodeURIComponent(step)}`,
      );
      go(record.visits?.position ?? record.reward?.position ?? record.sampledAt);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <div class="timetravel">
      <label>
        position{' '}
        <input
          type="range"
          min={props.min}
          max={props.head}
          value={value}
          data-testid="slider"
          onInput={(e) => {
            dragging.current = true;
            setValue(Number((e.target as HTMLInputElement).value));
          }}
          onChange={(e) => {
            dragging.current = false;
            go(Number((e.target as HTMLInputElement).value));
          }}
        />{' '}
        <span data-testid="slider-value">{value}</span> / {props.head}
      </label>
      <form onSubmit={goToStep}>
        go to step <input size={7} value={step} onInput={(e) => setStep((e.target as HTMLInputElement).value)} data-testid="goto-step" />{' '}
        <button type="submit">go</button>
      </form>
      {props.at ? (
        <button onClick={() => (location.hash = runHash(props.id, null))} data-testid="live">
          back to live
        </button>
      ) : (
        <span class="live-badge">live</span>
      )}
      {error && <span class="error">{error}</span>}
    </div>
  );
}
