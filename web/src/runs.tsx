/** The run list (status, progress, rate, ETA, lease, checkpoint, best result) and the creation form. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, listExperiments } from './api.js';
import { arch, duration, fmt } from './format.js';
import type { ExperimentStatus } from './types.js';

interface Rate {
  step: number;
  at: number;
  perSecond: number | null;
}

export function RunsPage() {
  const [runs, setRuns] = useState<ExperimentStatus[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rates = useRef(new Map<string, Rate>());
  const load = async () => {
    try {
      const list = await listExperiments();
      const statuses = await Promise.all(list.map((e) => api<ExperimentStatus>(`/experiments/${encodeURIComponent(e.id)}`)));
      const now = performance.now();
      for (const s of statuses) {
        const previous = rates.current.get(s.id);
        const perSecond = previous && s.lastRewardedStep > previous.step ? ((s.lastRewardedStep - previous.step) * 1000) / (now - previous.at) : previous && s.lastRewardedStep === previous.step ? 0 : null;
        if (!previous || s.lastRewardedStep !== previous.step || now - previous.at > 10_000) rates.current.set(s.id, { step: s.lastRewardedStep, at: now, perSecond: perSecond ?? previous?.perSecond ?? null });
      }
      setRuns(statuses.reverse());
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 2000);
    return () => clearInterval(timer);
  }, []);
  return (
    <main>
      <h1>Experiments</h1>
      {error && <p class="error">{error}</p>}
      {runs === null ? (
        <p>loading…</p>
      ) : (
        <table class="runs" data-testid="runs">
          <thead>
            <tr>
              <th>name</th>
              <th>space</th>
              <th>lifecycle</th>
              <th>phase</th>
              <th>step / total</th>
              <th>steps/s</th>
              <th>ETA</th>
              <th>lease</th>
              <th>checkpoint</th>
              <th>best</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => {
              const rate = rates.current.get(run.id)?.perSecond ?? null;
              const remaining = run.totalTrainingSteps - run.lastRewardedStep - 1;
              return (
                <tr key={run.id} data-testid={`run-${run.id}`}>
                  <td>
                    <a href={`#/runs/${encodeURIComponent(run.id)}`}>{run.name}</a>
                  </td>
                  <td>{run.config.searchSpace.name}</td>
                  <td>{run.lifecycle}</td>
                  <td>{run.phase ?? '–'}</td>
                  <td data-testid="progress">
                    {run.lastRewardedStep + 1} / {run.totalTrainingSteps}
                  </td>
                  <td>{rate === null ? '–' : rate.toFixed(1)}</td>
                  <td>{remaining <= 0 ? 'trained' : rate ? duration(remaining / rate) : '–'}</td>
                  <td>{run.lease?.active ? run.lease.workerId : '–'}</td>
                  <td>{run.newestCheckpoint ? `step ${run.newestCheckpoint.step}` : '–'}</td>
                  <td>{run.completedSearch ? `${arch(run.completedSearch.best.architecture)} (${fmt(run.completedSearch.best.top1)}%)` : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <CreateForm onCreated={() => void load()} />
    </main>
  );
}

interface Preset {
  name: string;
  needsDataDir: boolean;
  request: Record<string, unknown>;
}

/** A new experiment from a preset (name, seed, data dir) or from a pasted JSON request. */
function CreateForm(props: { onCreated: (id: string) => void }) {
  const [presets, setPresets] = useState<Preset[]>([]);
  const [mode, setMode] = useState<'preset' | 'json'>('preset');
  const [preset, setPreset] = useState('demo');
  const [name, setName] = useState('');
  const [seed, setSeed] = useState('0');
  const [dataDir, setDataDir] = useState('');
  const [json, setJson] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<string | null>(null);
  useEffect(() => {
    void api<{ presets: Preset[] }>('/presets').then((answer) => {
      setPresets(answer.presets);
      const first = answer.presets.find((p) => p.name === 'demo') ?? answer.presets[0];
      if (first) setJson(JSON.stringify(first.request, null, 2));
    });
  }, []);
  const chosen = presets.find((p) => p.name === preset);
  const submit = async (event: Event) => {
    event.preventDefault();
    setErrors({});
    setCreated(null);
    let body: Record<string, unknown>;
    if (mode === 'json') {
      try {
        body = JSON.parse(json) as Record<string, unknown>;
      } catch (e) {
        setErrors({ json: `not valid JSON: ${(e as Error).message}` });
        return;
      }
    } else {
      if (!chosen) return;
      body = { ...chosen.request, ...(name ? { name } : {}), seed: seed === '' ? seed : Number(seed) };
      if (chosen.needsDataDir) body.dataset = { ...(chosen.request.dataset as object), dir: dataDir };
    }
    try {
      const answer = await api<{ id: string }>('/experiments', { method: 'POST', body });
      setCreated(answer.id);
      props.onCreated(answer.id);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const field = e.body?.field ?? '';
      const message = e.body?.message ?? e.message;
      // body.name -> the name field; body.seed -> seed; body.dataset.dir -> data dir; else the JSON.
      const key = mode === 'preset' ? (field === 'body.name' ? 'name' : field === 'body.seed' ? 'seed' : field.startsWith('body.dataset') ? 'dataDir' : 'form') : 'json';
      setErrors({ [key]: message });
    }
  };
  return (
    <form class="create" onSubmit={submit} data-testid="create-form">
      <h2>New experiment</h2>
      <label>
        <input type="radio" name="mode" checked={mode === 'preset'} onChange={() => setMode('preset')} /> from a preset
      </label>
      <label>
        <input type="radio" name="mode" checked={mode === 'json'} onChange={() => setMode('json')} data-testid="mode-json" /> JSON request
      </label>
      {mode === 'preset' ? (
        <div class="fields">
          <label>
            preset
            <select value={preset} onChange={(e) => setPreset((e.target as HTMLSelectElement).value)} data-testid="preset">
              {presets.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            name <input value={name} placeholder={String(chosen?.request.name ?? '')} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="name" />
            {errors.name && <span class="field-error" data-testid="error-name">{errors.name}</span>}
          </label>
          <label>
            seed <input value={seed} onInput={(e) => setSeed((e.target as HTMLInputElement).value)} data-testid="seed" />
            {errors.seed && <span class="field-error" data-testid="error-seed">{errors.seed}</span>}
          </label>
          {chosen?.needsDataDir && (
            <label>
              data dir <input value={dataDir} onInput={(e) => setDataDir((e.target as HTMLInputElement).value)} data-testid="data-dir" />
              {errors.dataDir && <span class="field-error">{errors.dataDir}</span>}
            </label>
          )}
          {errors.form && <span class="field-error">{errors.form}</span>}
        </div>
      ) : (
        <div class="fields">
          <textarea rows={12} value={json} onInput={(e) => setJson((e.target as HTMLTextAreaElement).value)} data-testid="json" />
          {errors.json && <span class="field-error" data-testid="error-json">{errors.json}</span>}
        </div>
      )}
      <button type="submit" data-testid="create">Create</button>
      {created && (
        <p data-testid="created">
          created <a href={`#/runs/${encodeURIComponent(created)}`}>{created}</a>
        </p>
      )}
    </form>
  );
}
