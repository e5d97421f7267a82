/** The API answers the dashboard reads (the fields it uses). */
export interface ExperimentStatus {
  id: string;
  position: number;
  version: number;
  name: string;
  lifecycle: string;
  phase: string | null;
  step: number;
  lastRewardedStep: number;
  totalTrainingSteps: number;
  movingAverageLoss: number;
  lease: { workerId: string; expiresAt: string; active: boolean } | null;
  newestCheckpoint: { step: number; sha256: string } | null;
  completedSearch: { searchId: string; best: { architecture: number[]; top1: number } } | null;
  tree: { nodes: number; rootVisits: number };
  config: { searchSpace: { name: string; layers: number; opCounts: number[] }; hyperparameters: Record<string, number>; schedule: Record<string, number> };
}

export interface SnapshotNode {
  op: number | null;
  path: string;
  n: number;
  s: number;
  qbar: number;
  g: number | null;
  probability: number | null;
  removed: boolean;
  childCount: number;
  children?: SnapshotNode[];
}

export interface TreeAnswer {
  position: number;
  version: number;
  phase: string;
  lastRewardedStep: number;
  stats: Record<string, number>;
  subtree: SnapshotNode | null;
  topLeaves: { architecture: number[]; n: number; s: number; qbar: number }[];
  g: number[][];
}

export interface TimelineAnswer {
  position: number;
  fromStep: number;
  toStep: number;
  points: number;
  totalTrainingSteps: number;
  lastRewardedStep: number;
  series: { bucket: number; step: number[]; loss: number[]; movingAverageLoss: number[]; reward: number[]; lossMin: number[]; lossMax: number[] };
  phases: { phase: string; fromStep: number; toStep: number | null }[];
  checkpoints: { step: number; position: number }[];
}

export interface HeatmapAnswer {
  position: number;
  frames: { stride: number; step: number[]; probabilities: number[][][] };
}
