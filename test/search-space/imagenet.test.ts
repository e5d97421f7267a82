import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArchitectureLabels, presetSpace } from '../../src/search-space/index.js';

const space = presetSpace('imagenet');

// Published in the MCT-NAS paper (Su et al., CVPR 2021); every searched block carries SE.
const mctNasA =
  'k3e6 k3e3 k3e3 k3e3 | k3e3 k5e3 k5e3 k3e3 | k3e6 k5e3 k5e3 k3e6 k3e6 k7e6 k3e6 k5e6 | k7e6 k7e6 k5e6 k5e6 k7e6';
const mctNasB =
  'k7e3 id id k3e3 | k5e3 k5e3 k3e6 k3e3 | k3e3 id k5e6 k5e6 k5e6 k3e3 k3e3 k3e3 | k5e6 k5e3 k7e6 k3e3 k7e6';

function relativeError(actual: number, published: number): number {
  return Math.abs(actual / published - 1);
}

describe('ImageNet preset (MCT-NAS paper space)', () => {
  it('given the preset, then it has 21 layers of 13 ops in stages 4/4/8/5', () => {
    assert.equal(space.numLayers, 21);
    assert.deepEqual(space.opCounts, new Array(21).fill(13));
    assert.deepEqual(space.stages, [
      [0, 4],
      [4, 8],
      [8, 16],
      [16, 21],
    ]);
    assert.equal(space.sizeBigInt(), 13n ** 21n);
    assert.equal(space.size, Number(13n ** 21n));
    assert.deepEqual(
      Array.from({ length: 13 }, (_, op) => space.opLabel(0, op)),
      ['id', 'k3e3', 'k3e6', 'k5e3', 'k5e6', 'k7e3', 'k7e6', 'k3e3-se', 'k3e6-se', 'k5e3-se', 'k5e6-se', 'k7e3-se', 'k7e6-se'],
    );
  });

  it('given the all-identity network, then FLOPs and params equal the hand count of its fixed parts and 1x1 transitions', () => {
    // stem 10,838,016 + k3e1 block 10,035,200 + 1x1 transitions (16→32, 32→40, 40→80, 80→96,
    // 96→192, 192→320) 8,655,360 + head 20,070,400 + FC 1,280,000 MACs.
    const arch = new Array<number>(21).fill(0);
    assert.equal(space.flops(arch), 50_878_976);
    assert.equal(space.params(arch), 1_789_048);
  });

  it('given MCT-NAS-A, then FLOPs and params are within 1% of the published 442M / 8.4M', () => {
    const arch = parseArchitectureLabels(space, mctNasA, { seByDefault: true });
    assert.equal(space.encode(arch), '8-7-7-7-7-9-9-7-8-9-9-8-8-12-8-10-12-12-10-10-12');
    assert.equal(space.flops(arch), 441_640_928);
    assert.equal(space.params(arch), 8_448_814);
    assert.ok(relativeError(space.flops(arch), 442e6) < 0.01);
    assert.ok(relativeError(space.params(arch), 8.4e6) < 0.01);
  });

  it('given MCT-NAS-B, then FLOPs are within 1% of the published 327M', () => {
    const arch = parseArchitectureLabels(space, mctNasB, { seByDefault: true });
    assert.equal(space.encode(arch), '11-0-0-7-9-9-8-7-7-0-10-10-10-7-7-7-10-9-12-7-12');
    assert.equal(space.flops(arch), 327_228_416);
    assert.ok(relativeError(space.flops(arch), 327e6) < 0.01);
  });

  it('given MCT-NAS-B, then params are 6,408,250: 1.7% above the published 6.3M', () => {
    // No standard SE convention brings B within 1% while keeping A within 1% (see the report:
    // A needs SE at a quarter of the expanded width, which puts B at 6.41M); pinned so that a
    // change of convention is a deliberate decision.
    const arch = parseArchitectureLabels(space, mctNasB, { seByDefault: true });
    assert.equal(space.params(arch), 6_408_250);
    assert.ok(relativeError(space.params(arch), 6.3e6) < 0.02);
  });

  it('given a layer that changes channels inside a stage (80→96), then its identity is a 1x1 conv that stays put', () => {
    assert.equal(space.changesShape(12), true);
    assert.equal(space.changesShape(13), false);
    assert.deepEqual(space.opCost(12, 0), { flops: 80 * 96 * 14 * 14, params: 80 * 96 + 2 * 96 });
    assert.deepEqual(space.opCost(13, 0), { flops: 0, params: 0 });
    const arch = new Array<number>(21).fill(1);
    arch[9] = 0;
    arch[12] = 0;
    assert.equal(space.encode(space.canonical(arch)), '1-1-1-1-1-1-1-1-1-1-1-0-0-1-1-1-1-1-1-1-1');
  });

  it('given an SE op, then its cost adds two 1x1 convs with bias at a quarter of the expanded width', () => {
    // Layer 13: 96 → 96 at 14x14, k3 e6 → 576 hidden; SE 576 → 144 → 576.
    const plain = space.opCost(13, 2);
    const withSe = space.opCost(13, 8);
    assert.deepEqual(
      { flops: withSe.flops - plain.flops, params: withSe.params - plain.params },
      { flops: 2 * 576 * 144, params: 2 * 576 * 144 + 144 + 576 },
    );
  });
});
