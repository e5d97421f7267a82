import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCrashScenario } from '../../scripts/crash-harness.js';

describe('crash and resume of the real trainer (SIGKILL, embedded database)', () => {
  it('given a training process killed inside 3 in-flight commits (reward t + sample t+1) and at 5 random instants, restarted each time, then the history and tree equal an uninterrupted run of the same seed', { timeout: 900_000 }, async () => {
    const result = await runCrashScenario({ workDir: mkdtempSync(join(tmpdir(), 'mctnas-crash-')), kills: 5, commitKills: 3, seed: 2026 });
    assert.equal(result.commitKills, 3, `three kills landed inside a commit: ${JSON.stringify(result)}`);
    assert.equal(result.kills, 5, `five kills landed before the run finished: ${JSON.stringify(result)}`);
    assert.equal(result.duplicatedSteps, 0);
    assert.equal(result.missingSteps, 0);
    assert.equal(result.steps, 40);
    assert.equal(result.firstDifference, null);
    assert.ok(result.identicalHistory, 'samples, losses, rewards, visit counts and search events are bit-identical');
    assert.ok(result.identicalTree);
  });
});
