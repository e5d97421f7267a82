/** Projection snapshots kept in memory (the in-memory runtime; the contract test's reference). */
import { type ProjectionSnapshot, ProjectionSnapshots } from '../../experiments/ports.js';

export class MemoryProjectionSnapshots extends ProjectionSnapshots {
  /** per stream, in stream-version order */
  private readonly streams = new Map<string, ProjectionSnapshot[]>();

  async load(streamId: string, atOrBefore: number): Promise<ProjectionSnapshot | null> {
    const snapshots = this.streams.get(streamId) ?? [];
    for (let i = snapshots.length - 1; i >= 0; i--) {
      const snapshot = snapshots[i]!;
      if (snapshot.position <= atOrBefore) return { ...snapshot, tree: snapshot.tree.slice(), status: JSON.parse(JSON.stringify(snapshot.status)) as unknown };
    }
    return null;
  }

  async save(snapshot: ProjectionSnapshot): Promise<void> {
    const snapshots = this.streams.get(snapshot.streamId) ?? [];
    if (snapshots.some((s) => s.version === snapshot.version)) return;
    // Stored as the database would: copied bytes, the status as a JSON round trip.
    snapshots.push({ ...snapshot, tree: snapshot.tree.slice(), status: JSON.parse(JSON.stringify(snapshot.status)) as unknown });
    snapshots.sort((a, b) => a.version - b.version);
    this.streams.set(snapshot.streamId, snapshots);
  }
}
