import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nasBenchMacroJson } from '../support/paths.js';
import { presetSpace } from '../../src/search-space/index.js';

interface Entry {
  readonly flops: number;
  readonly params: number;
  readonly mean_acc: number;
  readonly test_acc: readonly number[];
}

const table = JSON.parse(readFileSync(nasBenchMacroJson, 'utf8')) as Record<string, Entry>;
const keys = Object.keys(table).sort();
const space = presetSpace('nas-bench-macro');

describe('NAS-Bench-Macro ground truth (all 6561 entries)', () => {
  it('given the table, then it holds every 8-digit key of the 3^8 space', () => {
    assert.equal(keys.length, 6561);
    assert.equal(space.size, 6561);
    const all = Array.from({ length: 6561 }, (_, i) => i.toString(3).padStart(8, '0'));
    assert.deepEqual(keys, all);
  });

  it('given the extreme architectures, then FLOPs and params match the table exactly', () => {
    assert.deepEqual([space.flops(space.decode('00000000')), space.params(space.decode('00000000'))], [7_713_280, 387_882]);
    assert.deepEqual([space.flops(space.decode('11111111')), space.params(space.decode('11111111'))], [53_246_464, 1_588_874]);
    assert.deepEqual([space.flops(space.decode('22222222')), space.params(space.decode('22222222'))], [105_660_928, 2_932_586]);
  });

  it('given every key, then the analytic FLOPs and params equal the table exactly', () => {
    const mismatches = keys.filter((key) => {
      const arch = space.decode(key);
      return space.flops(arch) !== table[key]!.flops || space.params(arch) !== table[key]!.params;
    });
    assert.deepEqual(mismatches, []);
  });

  it('given every key, then decode then encode gives the key back', () => {
    assert.deepEqual(
      keys.filter((key) => space.encode(space.decode(key)) !== key),
      [],
    );
  });

  it('given every key, then the canonical form yields exactly 3969 distinct networks', () => {
    const classes = new Set(keys.map((key) => space.encode(space.canonical(space.decode(key)))));
    assert.equal(classes.size, 3969);
  });

  it('given keys of one canonical class, then the table gives them identical FLOPs, params and accuracies', () => {
    // The benchmark trained one network per class and copied its results to the other keys,
    // so equal accuracies confirm the equivalence independently of the cost model.
    const byClass = new Map<string, Entry>();
    const disagreements: string[] = [];
    for (const key of keys) {
      const canonicalKey = space.encode(space.canonical(space.decode(key)));
      const first = byClass.get(canonicalKey);
      const entry = table[key]!;
      if (first === undefined) byClass.set(canonicalKey, entry);
      else if (
        first.flops !== entry.flops ||
        first.params !== entry.params ||
        JSON.stringify(first.test_acc) !== JSON.stringify(entry.test_acc)
      ) {
        disagreements.push(key);
      }
    }
    assert.deepEqual(disagreements, []);
  });

  it('given the best mean accuracy, then exactly the class of 22212220 attains it', () => {
    const bestAccuracy = Math.max(...keys.map((key) => table[key]!.mean_acc));
    const best = keys.filter((key) => table[key]!.mean_acc === bestAccuracy);
    assert.deepEqual(best, ['22212202', '22212220']);
    assert.deepEqual(
      best.map((key) => space.encode(space.canonical(space.decode(key)))),
      ['22212220', '22212220'],
    );
  });
});
