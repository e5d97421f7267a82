/**
 * The audit ledger over the in-memory event store: the SQL adapter's answers computed by
 * scanning the stream (the contract test checks both against the same spec). Node deltas are
 * double differences here, exact decimals in SQL: they can differ in the last bit; totals are
 * the node's (n, S) exactly in both.
 */
import type { EventData } from '../../events/catalog.js';
import type { MemoryEventStore } from '../../events/memory-event-store.js';
import type { StoredEvent } from '../../events/stored-event.js';
import { apiEventOf, AuditLedger, type EventsFilter, type EventsPage, type GHistoryEntry, type GHistoryPage, type LedgerEntry, type LedgerPage } from '../../experiments/ports.js';

type Visits = EventData<'VisitCountsUpdated'>;

export class MemoryAuditLedger extends AuditLedger {
  constructor(private readonly store: MemoryEventStore) {
    super();
  }

  async ledger(streamId: string, path: readonly number[], position: number, after: number, limit: number): Promise<LedgerPage> {
    const events = this.store.events(streamId);
    const key = JSON.stringify(path);
    const entries: LedgerEntry[] = [];
    let count = 0;
    let n = 0;
    let s = 0;
    const restart = lastTreeRestart(events, position);
    for (const e of events) {
      if (e.position > position) break;
      if (e.type !== 'VisitCountsUpdated') continue;
      const data = e.data as Visits;
      if (data.source === 'search' && e.position < restart) continue;
      const node = data.nodes.find((u) => JSON.stringify(u.path) === key);
      if (!node) continue;
      count++;
      const [dn, ds] = [node.n - n, node.s - s];
      [n, s] = [node.n, node.s];
      if (e.streamVersion <= after || entries.length >= limit) continue;
      const source = data.source as LedgerEntry['source'];
      const reward = source === 'training' ? newestBefore(events, e.streamVersion, (x) => x.type === 'RewardRecorded' && (x.data as EventData<'RewardRecorded'>).step === data.step) : undefined;
      const validation =
        source === 'search' ? newestBefore(events, e.streamVersion, (x) => x.type === 'ValidationBatchEvaluated' && (x.data as EventData<'ValidationBatchEvaluated'>).evaluation === data.step) : undefined;
      const checkpoint = newestBefore(events, e.streamVersion, (x) => x.type === 'CheckpointSaved');
      const rewardData = reward?.data as EventData<'RewardRecorded'> | undefined;
      const validationData = validation?.data as EventData<'ValidationBatchEvaluated'> | undefined;
      const worker = (e.metadata as { workerId?: unknown }).workerId;
      entries.push({
        step: data.step,
        source,
        position: e.position,
        streamVersion: e.streamVersion,
        recordedAt: e.createdAt.toISOString(),
        worker: worker === null || worker === undefined ? null : String(worker),
        n: node.n,
        s: node.s,
        dn,
        ds,
        loss: rewardData?.loss ?? validationData?.loss ?? null,
        movingAverageLoss: rewardData?.movingAverageLoss ?? null,
        reward: rewardData?.reward ?? validationData?.reward ?? null,
        rewardPosition: (reward ?? validation)?.position ?? null,
        checkpoint: checkpoint ? { ...(checkpoint.data as EventData<'CheckpointSaved'>), position: checkpoint.position } : null,
      });
    }
    const last = entries[entries.length - 1];
    return { entries, totals: { entries: count, n, s }, next: entries.length === limit && last ? last.streamVersion : null };
  }

  async gHistory(streamId: string, position: number, filter: { layer?: number; op?: number }, after: number, limit: number): Promise<GHistoryPage> {
    const matches = (x: { layer: number; op: number }) => (filter.layer === undefined || x.layer === filter.layer) && (filter.op === undefined || x.op === filter.op);
    const entries: GHistoryEntry[] = [];
    for (const e of this.store.events(streamId)) {
      if (e.position > position || entries.length >= limit) break;
      if (e.type !== 'VisitCountsUpdated' || e.streamVersion <= after) continue;
      const data = e.data as Visits;
      const values = data.g.filter(matches).sort((a, b) => a.layer - b.layer || a.op - b.op);
      if ((filter.layer !== undefined || filter.op !== undefined) && values.length === 0) continue;
      entries.push({ step: data.step, source: data.source as GHistoryEntry['source'], position: e.position, streamVersion: e.streamVersion, values: values.map((v) => ({ ...v })) });
    }
    return { entries, next: entries.length === limit ? entries[entries.length - 1]!.streamVersion : null };
  }

  async eventsPage(streamId: string, filter: EventsFilter, after: number, limit: number): Promise<EventsPage> {
    const stream = this.store.events(streamId);
    const head = stream.at(-1);
    if (!head) return { version: 0, position: 0, events: [], next: null };
    const types = filter.types ? new Set<string>(filter.types) : null;
    const events = [];
    for (let i = after; i < stream.length && events.length < limit; i++) {
      const e = stream[i]!;
      if (types && !types.has(e.type)) continue;
      const step = eventStep(e);
      if (filter.fromStep !== undefined && !(step !== null && step >= filter.fromStep)) continue;
      if (filter.toStep !== undefined && !(step !== null && step <= filter.toStep)) continue;
      events.push(apiEventOf(e));
    }
    return { version: head.streamVersion, position: head.position, events, next: events.length === limit ? events[events.length - 1]!.streamVersion : null };
  }
}

/** The newest event before stream version `version` that satisfies `test`. */
function newestBefore(events: readonly StoredEvent[], version: number, test: (e: StoredEvent) => boolean): StoredEvent | undefined {
  for (let i = version - 2; i >= 0; i--) if (test(events[i]!)) return events[i];
  return undefined;
}

/**
 * An event's step: its payload's `step` (except a search's VisitCountsUpdated, whose step is
 * an evaluation index), else the `step` in its metadata (the SQL adapter's EVENT_STEP).
 */
function eventStep(e: StoredEvent): number | null {
  const data = e.data as { step?: unknown; source?: unknown };
  if (typeof data.step === 'number' && !(e.type === 'VisitCountsUpdated' && data.source === 'search')) return data.step;
  const meta = (e.metadata as { step?: unknown }).step;
  return typeof meta === 'number' ? meta : null;
}

/**
 * The position of the last SearchStarted 'as-trained' at or before `position` (0 if none): that
 * search restarted from the tree as training left it, so earlier searches' backups no longer
 * count towards any node.
 */
function lastTreeRestart(events: readonly StoredEvent[], position: number): number {
  let restart = 0;
  for (const e of events) {
    if (e.position > position) break;
    if (e.type === 'SearchStarted' && (e.data as EventData<'SearchStarted'>).tree === 'as-trained') restart = e.position;
  }
  return restart;
}
