/**
 * Kill-and-resume harness (used by test/training/crash-resume.test.ts with 5 kills and by
 * `npm run soak:crash` with 20): trains a small real experiment (TensorFlow.js supernet on
 * generated CIFAR-10 binary batches, embedded PGlite database) in a child process running the
 * real CLI, SIGKILLs it at random instants, restarts it until it finishes, and compares the
 * stored history with an uninterrupted run of the same seed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { PgliteDatabase } from '../src/database/pglite-database.js';
import { EventStore } from '../src/events/event-store.js';
import type { StoredEvent } from '../src/events/stored-event.js';
import { uniformAt } from '../src/random/counter-rng.js';
import { fold } from '../src/tree/evolve.js';
import { toPlain } from '../src/tree/state.js';

const cli = resolve(fileURLToPath(import.meta.url), '..', '..', 'src', 'cli', 'main.js');
const killHook = pathToFileURL(resolve(fileURLToPath(import.meta.url), '..', 'kill-in-commit.js')).href;

/** Tiny CIFAR-10 batches in the official binary format: the label shapes the image, so it is learnable. */
export function writeCifarBatches(dir: string, perFile = 40): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 1; f <= 5; f++) {
    const records = Buffer.alloc(perFile * 3073);
    for (let r = 0; r < perFile; r++) {
      const label = (f * 7 + r * 3) % 10;
      const base = r * 3073;
      records[base] = label;
      for (let p = 0; p < 3072; p++) {
        const noise = Math.floor(uniformAt(f, r, 'crash-harness-pixels', p) * 64);
        records[base + 1 + p] = ((p * (label + 1)) % 192) + noise;
      }
    }
    writeFileSync(join(dir, `data_batch_${f}.bin`), records);
  }
}

export function crashExperimentRequest(dataDir: string) {
  return {
    name: 'crash-resume',
    searchSpace: { preset: 'nas-bench-macro', widthMultiplier: 0.125, inputSize: 32, inputChannels: 3, classes: 10 },
    schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 10, mctSteps: 20 },
    dataset: { kind: 'cifar10', dir: dataDir },
    training: { batchSize: 8, validationPerClass: 4, evaluationBatchSize: 40, augmentation: { padding: 2, flip: true } },
    search: { strategy: 'hierarchical', candidates: 3, topK: 3, bnRecalibrationBatches: 2 },
    seed: 5,
  };
}

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** `killInCommit`: `<step>:<writes>`, the process dies inside the commit of that step's reward (scripts/kill-in-commit.ts). */
function runCli(args: string[], dataDir: string, killAfterMs?: number, killInCommit?: string): Promise<ChildResult> {
  return new Promise((resolveRun, reject) => {
    const hook = killInCommit === undefined ? [] : ['--import', killHook];
    const child = spawn(process.execPath, [...hook, cli, ...args], {
      env: { ...process.env, MCTNAS_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'error', MCTNAS_WORKER_ID: 'crash-worker', TF_BACKEND: 'wasm', MCTNAS_KILL_IN_COMMIT: killInCommit ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
  });
}

async function createExperiment(dataDir: string, requestFile: string): Promise<string> {
  const created = await runCli(['create', '--config', requestFile], dataDir);
  if (created.code !== 0) throw new Error(`create failed: ${created.output}`);
  return created.output.trim().split('\n').at(-1)!;
}

async function readHistory(dataDir: string, id: string): Promise<StoredEvent[]> {
  const db = await PgliteDatabase.open(join(dataDir, 'pglite'));
  try {
    return await new EventStore(db).readStream(id);
  } finally {
    await db.close();
  }
}

/** What must not depend on interruptions (positions, lease ids, times and file paths may). */
function comparable(events: StoredEvent[]) {
  const kept = new Set(['ArchitectureSampled', 'RewardRecorded', 'VisitCountsUpdated', 'PhaseChanged', 'SearchStarted', 'ValidationBatchEvaluated', 'CandidateRemoved', 'CandidateEvaluated', 'SearchCompleted']);
  return events.filter((e) => kept.has(e.type)).map((e) => ({ type: e.type, data: e.data }));
}

export interface CrashScenarioResult {
  readonly kills: number;
  /** kills that landed inside the commit of a step's reward and the next step's sample */
  readonly commitKills: number;
  readonly restarts: number;
  readonly identicalHistory: boolean;
  readonly identicalTree: boolean;
  readonly steps: number;
  readonly duplicatedSteps: number;
  readonly missingSteps: number;
  readonly firstDifference: string | null;
  readonly secondsUninterrupted: number;
  readonly secondsInterrupted: number;
}

/**
 * `commitKills` runs first: run i dies inside the write-behind commit of [reward, next sample]
 * of step 4 + 9i (never a checkpoint step, so the commit is one of the write-behind ones) at its
 * first or second file write (an embedded-database commit writes 1-2 pages; none is fsynced, a
 * killed process leaves what it wrote in the OS cache); then `kills` SIGKILLs at seeded random
 * instants.
 */
export async function runCrashScenario(options: { workDir: string; kills: number; commitKills?: number; seed: number; log?: (line: string) => void }): Promise<CrashScenarioResult> {
  const log = options.log ?? (() => undefined);
  const data = join(options.workDir, 'cifar');
  writeCifarBatches(data);
  const requestFile = join(options.workDir, 'request.json');
  writeFileSync(requestFile, JSON.stringify(crashExperimentRequest(data)));
  const train = (id: string) => ['train', id, '--no-http', '--no-progress', '--checkpoint-every', '3'];

  const referenceDir = join(options.workDir, 'reference');
  const referenceId = await createExperiment(referenceDir, requestFile);
  let started = Date.now();
  const reference = await runCli(train(referenceId), referenceDir);
  if (reference.code !== 0) throw new Error(`uninterrupted run failed: ${reference.output}`);
  const secondsUninterrupted = (Date.now() - started) / 1000;
  log(`uninterrupted run: ${secondsUninterrupted.toFixed(1)} s`);

  const crashDir = join(options.workDir, 'crashing');
  const id = await createExperiment(crashDir, requestFile);
  let kills = 0;
  let commitKills = 0;
  let restarts = 0;
  started = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (attempt > (options.kills + (options.commitKills ?? 0)) * 4 + 10) throw new Error('the interrupted run never finished');
    // Kill instants spread over start-up, replay, training and search (seeded, so a failure
    // reproduces); each window is a fraction of the whole run so every planned kill lands.
    if (commitKills < (options.commitKills ?? 0)) {
      const step = 4 + 9 * commitKills;
      const writes = 1 + Math.floor(uniformAt(options.seed, attempt, 'crash-commit-writes', 0) * 2);
      const result = await runCli(train(id), crashDir, undefined, `${step}:${writes}`);
      restarts += 1;
      if (result.signal !== 'SIGKILL') throw new Error(`the run meant to die in the commit of step ${step} did not: ${result.output}`);
      commitKills += 1;
      log(`kill ${commitKills} inside the commit of step ${step}'s reward and step ${step + 1}'s sample, at file write ${writes}`);
      continue;
    }
    const window = (secondsUninterrupted * 1000 * 1.2) / options.kills;
    const delay = kills < options.kills ? Math.floor(300 + uniformAt(options.seed, attempt, 'crash-delay', 0) * window) : undefined;
    const result = await runCli(train(id), crashDir, delay);
    restarts += 1;
    if (result.signal === 'SIGKILL') {
      kills += 1;
      log(`kill ${kills} after ${delay} ms`);
      continue;
    }
    if (result.code !== 0) throw new Error(`resumed run failed: ${result.output}`);
    break;
  }
  const secondsInterrupted = (Date.now() - started) / 1000;

  const expected = await readHistory(referenceDir, referenceId);
  const actual = await readHistory(crashDir, id);
  const a = comparable(actual);
  const e = comparable(expected);
  let firstDifference: string | null = null;
  for (let i = 0; i < Math.max(a.length, e.length) && firstDifference === null; i++) {
    if (!isDeepStrictEqual(a[i], e[i])) firstDifference = `event ${i}: expected ${JSON.stringify(e[i])}, got ${JSON.stringify(a[i])}`;
  }
  const rewarded = actual.filter((x) => x.type === 'RewardRecorded').map((x) => (x.data as { step: number }).step);
  const total = expected.filter((x) => x.type === 'RewardRecorded').length;
  return {
    kills,
    commitKills,
    restarts,
    identicalHistory: firstDifference === null,
    identicalTree: isDeepStrictEqual(toPlain(fold(actual)).nodes, toPlain(fold(expected)).nodes),
    steps: rewarded.length,
    duplicatedSteps: rewarded.length - new Set(rewarded).size,
    missingSteps: Array.from({ length: total }, (_, i) => i).filter((s) => !rewarded.includes(s)).length,
    firstDifference,
    secondsUninterrupted,
    secondsInterrupted,
  };
}
