/** The tree explorer (lazily loaded by path), a node's reward ledger, and the G table with its history. */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from './api.js';
import { Chart, HEAT_COLORS } from './chart.js';
import { arch, fmt } from './format.js';
import type { SnapshotNode, TreeAnswer } from './types.js';
import { useLatest } from './use-latest.js';

const treeUrl = (id: string, params: Record<string, string | number | null | undefined>) => `/experiments/${encodeURIComponent(id)}/tree${query(params)}`;

export function TreePanel(props: { experimentId: string; at: number | null; tick: number }) {
  const root = useLatest<TreeAnswer>(treeUrl(props.experimentId, { depth: 1, top: 10, at: props.at }), props.tick).value;
  const [selected, setSelected] = useState<string | null>(null);
  if (!root) return <section><h2>Tree</h2>loading…</section>;
  return (
    <>
      <section class="two">
        <div>
          <h2>
            Tree <small data-testid="tree-position">as of position {root.position}: {root.stats.nodes ?? '?'} nodes</small>
          </h2>
          <div class="tree" data-testid="tree">
            {root.subtree && <TreeNode node={root.subtree} experimentId={props.experimentId} at={props.at} expanded onSelect={setSelected} selected={selected} />}
          </div>
        </div>
        <div>
          <h2>Top leaves by Q̄</h2>
          <table data-testid="top-leaves">
            <thead>
              <tr>
                <th>architecture</th>
                <th>n</th>
                <th>Q̄</th>
              </tr>
            </thead>
            <tbody>
              {root.topLeaves.map((leaf) => (
                <tr key={arch(leaf.architecture)}>
                  <td>
                    <a href="javascript:void 0" onClick={() => setSelected(leaf.architecture.join('.'))}>
                      {arch(leaf.architecture)}
                    </a>
                  </td>
                  <td>{leaf.n}</td>
                  <td>{fmt(leaf.qbar)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {selected !== null && <Ledger experimentId={props.experimentId} path={selected} at={props.at} tick={props.tick} />}
      <GTable experimentId={props.experimentId} g={root.g} at={props.at} />
    </>
  );
}

function TreeNode(props: { node: SnapshotNode; experimentId: string; at: number | null; expanded?: boolean; selected: string | null; onSelect: (path: string) => void }) {
  const [open, setOpen] = useState(props.expanded ?? false);
  const node = props.node;
  // The children the answer holds, else read lazily while shown, and read again on new data for
  // this node (a live refresh or another position).
  const lazy = useLatest<TreeAnswer>(open && !node.children ? treeUrl(props.experimentId, { path: node.path || 'root', depth: 1, top: 0, at: props.at }) : null, node);
  const children = node.children ?? (lazy.value ? (lazy.value.subtree?.children ?? []) : null);
  const path = node.path === '' ? 'root' : node.path;
  return (
    <div class={`node${node.removed ? ' removed' : ''}`}>
      <div class={`row${props.selected === node.path || (props.selected === 'root' && node.path === '') ? ' selected' : ''}`} data-path={path}>
        <button class="toggle" disabled={node.childCount === 0} onClick={() => setOpen(!open)} data-testid={`toggle-${path}`}>
          {node.childCount === 0 ? '·' : open ? '▾' : '▸'}
        </button>
        <a href="javascript:void 0" onClick={() => props.onSelect(node.path === '' ? 'root' : node.path)} data-testid={`node-${path}`}>
          {node.op === null ? 'root' : `op ${node.op}`}
        </a>
        <span class="stats">
          n={node.n} S={fmt(node.s)} Q̄={fmt(node.qbar)} {node.g !== null && `G=${fmt(node.g)}`} {node.probability !== null && `p=${fmt(node.probability, 3)}`}
        </span>
      </div>
      {open && children && (
        <div class="children">
          {children.map((child) => (
            <TreeNode key={child.path} node={child} experimentId={props.experimentId} at={props.at} selected={props.selected} onSelect={props.onSelect} />
          ))}
        </div>
      )}
    </div>
  );
}

interface LedgerAnswer {
  position: number;
  node: { n: number; s: number; qbar: number; g: number | null; exists: boolean };
  ledger: {
    entries: { step: number; source: string; worker: string | null; loss: number | null; movingAverageLoss: number | null; reward: number | null; dn: number; ds: number; streamVersion: number; checkpoint: { step: number } | null }[];
    totals: { entries: number; n: number; s: number };
    next: number | null;
  };
}

const PAGE = 50;

function Ledger(props: { experimentId: string; path: string; at: number | null; tick: number }) {
  const [pages, setPages] = useState<number[]>([0]);
  const after = pages[pages.length - 1]!;
  useEffect(() => setPages([0]), [props.path, props.at]);
  const answer = useLatest<LedgerAnswer>(`/experiments/${encodeURIComponent(props.experimentId)}/nodes/${props.path}${query({ limit: PAGE, after, at: props.at })}`, props.tick).value;
  if (!answer) return <section><h2>Ledger of {props.path}</h2>loading…</section>;
  const { node, ledger } = answer;
  const equal = ledger.totals.n === node.n && Math.abs(ledger.totals.s - node.s) <= 1e-9 * Math.max(1, Math.abs(node.s));
  return (
    <section data-testid="ledger">
      <h2>
        Reward ledger of node <code>{props.path}</code> <small>as of position {answer.position}</small>
      </h2>
      <p>
        node: n=<b data-testid="node-n">{node.n}</b> S=<b data-testid="node-s">{node.s}</b> Q̄={fmt(node.qbar)} · ledger totals over {ledger.totals.entries} entries: n=
        <b data-testid="ledger-n">{ledger.totals.n}</b> S=<b data-testid="ledger-s">{ledger.totals.s}</b>{' '}
        <span class={equal ? 'ok' : 'error'} data-testid="ledger-check">
          {equal ? '= node (n, S)' : '≠ node (n, S)'}
        </span>
      </p>
      <table>
        <thead>
          <tr>
            <th>step</th>
            <th>source</th>
            <th>loss</th>
            <th>L̃</th>
            <th>Q</th>
            <th>dn</th>
            <th>dS</th>
            <th>worker</th>
            <th>checkpoint</th>
          </tr>
        </thead>
        <tbody>
          {ledger.entries.map((e) => (
            <tr key={e.streamVersion}>
              <td>{e.step}</td>
              <td>{e.source}</td>
              <td>{fmt(e.loss)}</td>
              <td>{fmt(e.movingAverageLoss)}</td>
              <td>{fmt(e.reward)}</td>
              <td>{e.dn}</td>
              <td>{fmt(e.ds)}</td>
              <td>{e.worker ?? '–'}</td>
              <td>{e.checkpoint ? `step ${e.checkpoint.step}` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
          ‹ previous
        </button>
        <span>page {pages.length}</span>
        <button disabled={ledger.next === null} onClick={() => setPages([...pages, ledger.next!])} data-testid="ledger-next">
          next ›
        </button>
      </div>
    </section>
  );
}

interface OpsAnswer {
  history: { entries: { step: number; source: string; values: { layer: number; op: number; value: number }[] }[]; next: number | null };
}

function GTable(props: { experimentId: string; g: number[][]; at: number | null }) {
  const [cell, setCell] = useState<{ layer: number; op: number } | null>(null);
  const [history, setHistory] = useState<[number, number][] | null>(null);
  useEffect(() => {
    if (!cell) return;
    void api<OpsAnswer>(`/experiments/${encodeURIComponent(props.experimentId)}/ops${query({ layer: cell.layer, op: cell.op, limit: 5000, at: props.at })}`).then((answer) =>
      setHistory(answer.history.entries.filter((e) => e.source === 'training').map((e) => [e.step, e.values.find((v) => v.layer === cell.layer && v.op === cell.op)?.value ?? NaN])),
    );
  }, [cell, props.at]);
  const values = props.g.flat();
  const max = Math.max(1e-12, ...values.map(Math.abs));
  const color = (v: number) => HEAT_COLORS[Math.min(HEAT_COLORS.length - 1, Math.floor((Math.abs(v) / max) * (HEAT_COLORS.length - 0.001)))];
  return (
    <section class="two">
      <div>
        <h2>G table (layer × op)</h2>
        <table class="g" data-testid="g-table">
          <tbody>
            {props.g.map((row, layer) => (
              <tr key={layer}>
                <th>{layer}</th>
                {row.map((v, op) => (
                  <td key={op} style={{ background: color(v), color: Math.abs(v) / max > 0.6 ? 'white' : 'black' }} title={`layer ${layer}, op ${op}`} onClick={() => setCell({ layer, op })}>
                    {fmt(v, 3)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div>
        <h2>{cell ? `G[${cell.layer}][${cell.op}] over steps` : 'Click a G cell for its history'}</h2>
        {cell && history && (
          <Chart
            height={220}
            option={{
              animation: false,
              tooltip: { trigger: 'axis' },
              grid: { left: 50, right: 10, top: 10, bottom: 30 },
              xAxis: { type: 'value', name: 'step', scale: true },
              yAxis: { type: 'value', scale: true },
              series: [{ type: 'line', step: 'end', showSymbol: false, data: history }],
            }}
          />
        )}
      </div>
    </section>
  );
}
