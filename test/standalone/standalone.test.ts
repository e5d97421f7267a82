import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toExperimentCreated } from '../../src/experiments/experiment-request.js';
import { nasBenchMacro, scaledSpace } from '../../src/search-space/presets.js';
import { SearchSpace } from '../../src/search-space/search-space.js';
import { sampleArchitectures, standaloneCsv, trainStandaloneSample, writeStandaloneTable } from '../../src/standalone/standalone.js';
import { parseTableSpec } from '../../src/tabular/table.js';

const space = scaledSpace(nasBenchMacro, { widthMultiplier: 0.1, inputSize: 28, inputChannels: 1 });

describe('stand-alone ground truth', () => {
  it('the sample is seeded, distinct, and a prefix of a larger sample of the same seed', () => {
    const a = sampleArchitectures(space, 12, 3);
    assert.deepEqual(sampleArchitectures(space, 12, 3), a);
    assert.equal(new Set(a.map((x) => x.join(''))).size, 12);
    assert.deepEqual(sampleArchitectures(space, 20, 3).slice(0, 12), a);
    assert.notDeepEqual(sampleArchitectures(space, 12, 4), a);
    assert.throws(() => sampleArchitectures(space, 6562, 0), /exceeds the 6561 architectures/);
  });

  it('trains each network, writes it, reuses it on a second run and retrains when the settings change', async () => {
    const out = mkdtempSync(join(tmpdir(), 'standalone-'));
    try {
      const experiment = toExperimentCreated({
        name: 'tiny',
        searchSpace: space,
        schedule: { stepsPerEpoch: 10, warmupSteps: 10, treeBuildingSteps: 0, mctSteps: 0 },
        dataset: { kind: 'fashion-mnist', perClass: 40 },
        training: { batchSize: 8, augmentation: null, validationPerClass: 5, evaluationBatchSize: 50, backend: 'wasm' },
      });
      const settings = { experiment, count: 2, steps: 2, sampleSeed: 1, trainingSeed: 0, splitSeed: 0 };
      const first = await trainStandaloneSample(settings, out);
      assert.equal(first.length, 2);
      for (const row of first) {
        assert.ok(row.top1 >= 0 && row.top1 <= 100 && Number.isFinite(row.loss));
        assert.equal(row.flops, SearchSpace.fromDefinition(space).flops(row.architecture));
      }
      const reused: boolean[] = [];
      const second = await trainStandaloneSample(settings, out, { onNetwork: (p) => reused.push(p.reused) });
      assert.deepEqual(reused, [true, true]);
      assert.deepEqual(second, first);
      const retrained: boolean[] = [];
      await trainStandaloneSample({ ...settings, steps: 3 }, out, { onNetwork: (p) => retrained.push(p.reused) });
      assert.deepEqual(retrained, [false, false]);

      const { csv, spec } = writeStandaloneTable(out, 'tiny', settings, first);
      assert.equal(readFileSync(csv, 'utf8'), standaloneCsv(first));
      assert.match(readFileSync(csv, 'utf8').split('\n')[0]!, /^arch,top1,/);
      assert.equal(parseTableSpec(JSON.parse(readFileSync(spec, 'utf8'))).columns.accuracy[0], 'top1');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
