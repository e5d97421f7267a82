/**
 * The authors' hierarchical node selection (DESIGN §2), over a trained tree.
 *
 * The search starts from the tree as training left it (SearchStarted 'as-trained': an earlier
 * search's backups and removals are not seen). Which nodes exist depends on `settings.scope`:
 * 'trained' (default, the authors' `ignore_none=True`): only nodes with training visits; 'any':
 * a child never created counts as present (fills may then explore untrained paths).
 *
 * Picking one candidate: descend from the root. At a node of depth l (choosing the op of
 * layer l), while node.n / N_l < n_thrd (training visits count; N_l = ops of layer l):
 *   - keep the ops chosen so far and fill the remaining layers uniformly from the existing
 *     children still in the tree;
 *   - outside the FLOPs window: remove that leaf (CandidateRemoved 'flops-window');
 *   - otherwise evaluate it on one validation batch (ValidationBatchEvaluated, batch =
 *     floor(evaluation / updateDataFreq), reward = referenceLoss / loss with the training
 *     criterion) and back the reward up: VisitCountsUpdated (source 'search') with the root
 *     and every node on the path n += 1, S += reward, and G[l][a_l] updated with gamma;
 *   - if the node itself got removed (every existing child removed: upward pruning), restart
 *     from the root.
 * Once the threshold holds, draw a child with softmax((Qbar + C2 * G) / tau) among the
 * existing children still in the tree, and descend.
 * Search loop: until K candidates are evaluated: pick one; outside the window remove it and
 * continue; full validation (CandidateEvaluated; BN recalibration is the evaluator's job);
 * remove it (CandidateRemoved 'evaluated') so it is never proposed again. When the root itself
 * is removed the space is exhausted and the search completes with fewer than K candidates.
 *
 * Shortlist option (`settings.shortlist`, off by default; not in the authors' code): pick
 * factor x K candidates as above, removing each (CandidateRemoved 'shortlisted') instead of
 * evaluating it; then score every proposal on the same `batches` validation batches (the ones
 * after the last batch the fills used; ValidationBatchEvaluated, no backup) and fully evaluate
 * the K proposals with the lowest mean loss (ties: the earlier proposal first). Full
 * evaluations stay K; the extra cost is factor x K x batches validation batches.
 *
 * Every event is applied to a private copy of the tree through the projection (`evolve`'s
 * transition), so the tree the strategy reads is exactly the tree a replay of its events gives.
 */
import { rngFor } from '../random/counter-rng.js';
import { TreeProjector } from '../tree/evolve.js';
import { inWindow } from '../tree/flops-window.js';
import type { Hyperparameters } from '../tree/hyperparameters.js';
import { drawIndex, selectionChildScores } from '../tree/policy.js';
import { backupUpdate } from '../tree/reward.js';
import { assertWindowReachable, checkSpaceMatches, type SpaceModel } from '../tree/space-model.js';
import { requireTree, type TreeState } from '../tree/state.js';
import type { TreeStore } from '../tree/store.js';
import type { SearchOutcome } from './outcome.js';
import { SearchSession, type RunOptions, type SearchEvent } from './session.js';
import type { SearchSettings } from './settings.js';
import type { SearchStrategy } from './strategy.js';

/** RNG purposes (part of the determinism contract: never rename). */
export const HIERARCHICAL_PURPOSE = {
  fill: 'search:hierarchical:fill',
  select: 'search:hierarchical:select',
} as const;

/**
 * Runs the hierarchical search on `state` (the tree at the end of training; for a resume, the
 * tree as it was before the search's SearchStarted).
 */
export async function runHierarchicalSearch(
  state: TreeState,
  space: SpaceModel,
  settings: SearchSettings,
  options: RunOptions,
): Promise<SearchOutcome> {
  const { config } = requireTree(state);
  checkSpaceMatches(space, config.opCounts);
  assertWindowReachable(space, settings.flopsWindow);
  const search = new HierarchicalSearch(state, space, settings, options);
  return search.run();
}

export const hierarchicalSearch = {
  name: 'hierarchical',
  run: ({ state, space }, settings, options) => runHierarchicalSearch(state, space, settings, options),
} as const satisfies SearchStrategy;

class HierarchicalSearch {
  private readonly projector: TreeProjector;
  private readonly session: SearchSession;
  private readonly hp: Hyperparameters;
  private decision = 0;
  private evaluation = 0;

  constructor(
    state: TreeState,
    private readonly space: SpaceModel,
    private readonly settings: SearchSettings,
    options: RunOptions,
  ) {
    this.projector = new TreeProjector(state);
    this.session = new SearchSession(settings, options, (event) => this.projector.apply(event));
    this.hp = settings.hyperparameters;
  }

  private get tree(): TreeStore {
    return this.projector.view().tree!;
  }

  private async emit(event: SearchEvent): Promise<void> {
    await this.session.push(event);
  }

  async run(): Promise<SearchOutcome> {
    const { searchId, candidates, flopsWindow, shortlist } = this.settings;
    await this.session.start('hierarchical');
    if (shortlist) return this.session.complete('hierarchical', await this.runShortlist(shortlist.factor * candidates, shortlist.batches));
    let exhausted = false;
    while (this.session.evaluated.length < candidates) {
      this.session.checkAborted();
      const arch = await this.pickCandidate();
      if (!arch) {
        exhausted = true;
        break;
      }
      const flops = this.space.flops(arch);
      if (!inWindow(flops, flopsWindow)) {
        await this.emit({ type: 'CandidateRemoved', data: { searchId, architecture: arch, reason: 'flops-window' } });
        continue;
      }
      await this.session.evaluateCandidate(arch, flops, this.space.params(arch));
      await this.emit({ type: 'CandidateRemoved', data: { searchId, architecture: arch, reason: 'evaluated' } });
    }
    const outcome = await this.session.complete('hierarchical', exhausted);
    return outcome;
  }

  /** The shortlist option (see the file comment); returns whether the space ran out first. */
  private async runShortlist(proposals: number, batches: number): Promise<boolean> {
    const { searchId, candidates, flopsWindow, referenceLoss } = this.settings;
    const shortlist: number[][] = [];
    let exhausted = false;
    while (shortlist.length < proposals) {
      this.session.checkAborted();
      const arch = await this.pickCandidate();
      if (!arch) {
        exhausted = true;
        break;
      }
      const inside = inWindow(this.space.flops(arch), flopsWindow);
      await this.emit({ type: 'CandidateRemoved', data: { searchId, architecture: arch, reason: inside ? 'shortlisted' : 'flops-window' } });
      if (inside) shortlist.push(arch);
    }
    // The same batches for every proposal, none of them seen by the fills.
    const first = this.evaluation > 0 ? this.session.batchOf(this.evaluation - 1) + 1 : 0;
    const scored: { arch: number[]; loss: number }[] = [];
    for (const arch of shortlist) {
      let sum = 0;
      for (let j = 0; j < batches; j++) {
        const evaluation = this.evaluation++;
        const batch = first + j;
        const loss = await this.session.validationLoss(arch, evaluation, batch);
        await this.emit({ type: 'ValidationBatchEvaluated', data: { searchId, evaluation, batch, architecture: arch, loss, reward: referenceLoss / loss } });
        sum += loss;
      }
      scored.push({ arch, loss: sum / batches });
    }
    scored.sort((a, b) => a.loss - b.loss);
    for (const { arch } of scored.slice(0, candidates)) {
      this.session.checkAborted();
      await this.session.evaluateCandidate(arch, this.space.flops(arch), this.space.params(arch));
    }
    return exhausted;
  }

  /** Whether node `id` (-1: never created) has a child the search may use. */
  private hasChild(id: number): boolean {
    if (id < 0) return this.settings.scope === 'any';
    return this.tree.hasAvailableChild(id, this.settings.scope);
  }

  /** One candidate leaf, or null when the whole tree has been removed. */
  private async pickCandidate(): Promise<number[] | null> {
    const L = this.tree.numLayers;
    restart: for (;;) {
      if (this.tree.removed[0]) return null;
      const path: number[] = [];
      for (let l = 0; l < L; l++) {
        const N = this.tree.opCounts[l]!;
        for (;;) {
          const id = this.tree.find(path);
          if (id >= 0 && this.tree.isRemoved(id)) continue restart;
          // A node with no existing child (scope 'trained', a tree training never reached) ends the search.
          if (!this.hasChild(id)) return null;
          const n = id >= 0 ? this.tree.n[id]! : 0;
          if (!(n / N < this.hp.nThreshold)) break;
          this.session.checkAborted();
          await this.fillAndEvaluate(path);
        }
        const id = this.tree.find(path);
        const probs = selectionChildScores(this.tree, id, l, this.hp, this.settings.scope).map((c) => c.probability);
        const rng = rngFor(this.settings.seed, this.decision++, HIERARCHICAL_PURPOSE.select);
        path.push(drawIndex(probs, rng.next()));
      }
      return path;
    }
  }

  /** Completes `prefix` uniformly from the remaining children; removes or evaluates the leaf. */
  private async fillAndEvaluate(prefix: readonly number[]): Promise<void> {
    const tree = this.tree;
    const rng = rngFor(this.settings.seed, this.decision++, HIERARCHICAL_PURPOSE.fill);
    const arch = [...prefix];
    let id = tree.find(prefix);
    for (let l = prefix.length; l < tree.numLayers; l++) {
      const available: number[] = [];
      for (let op = 0; op < tree.opCounts[l]!; op++) if (tree.childAvailable(id, op, this.settings.scope)) available.push(op);
      // A node that is not removed always has a child left (upward pruning).
      const op = available[rng.nextInt(available.length)]!;
      arch.push(op);
      id = tree.child(id, op);
    }
    const { searchId, flopsWindow, referenceLoss } = this.settings;
    if (!inWindow(this.space.flops(arch), flopsWindow)) {
      await this.emit({ type: 'CandidateRemoved', data: { searchId, architecture: arch, reason: 'flops-window' } });
      return;
    }
    const evaluation = this.evaluation++;
    const loss = await this.session.validationLoss(arch, evaluation);
    const reward = referenceLoss / loss;
    const batch = this.session.batchOf(evaluation);
    await this.emit({ type: 'ValidationBatchEvaluated', data: { searchId, evaluation, batch, architecture: arch, loss, reward } });
    await this.emit({ type: 'VisitCountsUpdated', data: backupUpdate(this.tree, arch, reward, this.hp.gamma, evaluation, 'search') });
  }
}
