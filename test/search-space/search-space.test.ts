import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rngFor } from '../../src/random/counter-rng.js';
import {
  imagenetMctNas,
  makeDivisible,
  nasBenchMacro,
  parseArchitectureLabels,
  presetSpace,
  presets,
  scaledSpace,
  SearchSpace,
  type SearchSpaceDefinition,
} from '../../src/search-space/index.js';
import { hasCode } from '../../src/kernel/domain-error.js';

const macro = presetSpace('nas-bench-macro');
const imagenet = presetSpace('imagenet');

/** A JSON-like mutable copy of a preset, for building invalid user definitions. */
function editable(def: SearchSpaceDefinition): any {
  return JSON.parse(JSON.stringify(def));
}

function assertSpaceError(def: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => SearchSpace.fromDefinition(def),
    (error: unknown) => {
      assert.ok(hasCode(error, 'SearchSpaceError'), String(error));
      assert.equal(error.field, field);
      assert.match(error.message, message);
      return true;
    },
  );
}

function assertArchitectureError(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(hasCode(error, 'ArchitectureError'), String(error));
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

describe('presets', () => {
  it('given the preset names, then they are nas-bench-macro and imagenet', () => {
    assert.deepEqual(Object.keys(presets), ['nas-bench-macro', 'imagenet']);
    assert.equal(presets['nas-bench-macro'], nasBenchMacro);
    assert.equal(presets['imagenet'], imagenetMctNas);
  });

  it('given NAS-Bench-Macro, then it has 8 layers of 3 ops in stages 2/3/3', () => {
    assert.equal(macro.numLayers, 8);
    assert.deepEqual(macro.opCounts, [3, 3, 3, 3, 3, 3, 3, 3]);
    assert.deepEqual(macro.stages, [
      [0, 2],
      [2, 5],
      [5, 8],
    ]);
    assert.equal(macro.sizeBigInt(), 6561n);
    assert.deepEqual(
      [0, 1, 2].map((op) => macro.opLabel(0, op)),
      ['id', 'k3e3', 'k5e6'],
    );
  });

  it('given an unknown preset name, then the error lists the valid names', () => {
    assert.throws(() => presetSpace('cifar'), /unknown preset "cifar"; valid: nas-bench-macro, imagenet/);
    assert.throws(() => presetSpace('toString'), (e: unknown) => hasCode(e, 'SearchSpaceError'));
  });
});

describe('SearchSpace.fromDefinition (user-defined JSON)', () => {
  it('given an even kernel, then the error names the op field', () => {
    const def = editable(nasBenchMacro);
    def.layers[3].ops[1].kernel = 4;
    assertSpaceError(def, 'layers.3.ops.1.kernel', /^layers\.3\.ops\.1\.kernel: must be odd$/);
  });

  it('given schema violations, then the error names the field of the first one', () => {
    const cases: [string, (def: any) => void, RegExp][] = [
      ['layers.0.channels', (d) => (d.layers[0].channels = -1), /too small/i],
      ['layers.1.stride', (d) => (d.layers[1].stride = 3), /got 3/],
      ['layers.2.ops.0.type', (d) => (d.layers[2].ops[0] = { type: 'conv' }), /identity.*mbconv/],
      ['layers.0.ops.1.kernel', (d) => (d.layers[0].ops[1].kernel = '3'), /expected number/],
      ['layers.0.ops', (d) => (d.layers[0].ops = []), /too small/i],
      ['head', (d) => delete d.head, /expected object/],
      ['se.ratio', (d) => (d.se = { ratio: 2, reference: 'expanded' }), /too big/i],
      ['input.size', (d) => (d.input.size = 0), /too small/i],
    ];
    for (const [field, edit, message] of cases) {
      const def = editable(nasBenchMacro);
      edit(def);
      assertSpaceError(def, field, message);
    }
  });

  it('given a value that is not an object, then the field is "definition"', () => {
    assertSpaceError(42, 'definition', /expected object/);
    assertSpaceError(null, 'definition', /expected object/);
  });

  it('given stages that leave a gap or miss layers, then the error names the stage', () => {
    const gap = editable(nasBenchMacro);
    gap.stages = [
      [0, 2],
      [3, 8],
    ];
    assertSpaceError(gap, 'stages.1', /must start at layer 2, got 3/);
    const short = editable(nasBenchMacro);
    short.stages = [
      [0, 2],
      [2, 5],
    ];
    assertSpaceError(short, 'stages', /end at layer 5 but the space has 8 layers/);
    const empty = editable(nasBenchMacro);
    empty.stages = [
      [0, 0],
      [0, 8],
    ];
    assertSpaceError(empty, 'stages.0', /must end after its start 0/);
  });

  it('given the same op twice in a layer, then the duplicate is named', () => {
    const def = editable(nasBenchMacro);
    def.layers[0].ops.push({ type: 'identity' });
    assertSpaceError(def, 'layers.0.ops.3', /duplicates layers\.0\.ops\.0 \(id\)/);
  });

  it('given an expansion that leaves no hidden channel, then the expansion is named', () => {
    const def = editable(nasBenchMacro);
    def.layers[0].ops[1].expansion = 0.001;
    assertSpaceError(def, 'layers.0.ops.1.expansion', /leaves no hidden channel from 32 input channels/);
  });

  it('given an even stem kernel, then the stem field is named', () => {
    const def = editable(imagenetMctNas);
    def.stem.blocks[0].kernel = 2;
    assertSpaceError(def, 'stem.blocks.0.kernel', /must be odd/);
  });

  it('given a tiny hand-computable space with SE, then FLOPs and params match the hand count', () => {
    // 8x8x3 input; stem 3x3 → 8 ch: 13,824 MACs, 216 + 16 params. MBConv k3 e2 with SE
    // (8 → 16 hidden → 8): expand 8,192 / 160, depthwise 9,216 / 176, SE (16 → 4 → 16)
    // 128 / 148, project 8,192 / 144. Head 1x1 → 16: 8,192 / 160; FC 16 → 2: 32 / 34.
    const tiny = {
      name: 'tiny',
      input: { size: 8, channels: 3 },
      stem: { channels: 8, kernel: 3, stride: 1 },
      layers: [{ channels: 8, stride: 1, ops: [{ type: 'mbconv', kernel: 3, expansion: 2, se: true }] }],
      head: { channels: 16, classes: 2 },
      se: { ratio: 0.25, reference: 'expanded' },
    };
    const space = SearchSpace.fromDefinition(tiny);
    assert.equal(space.flops([0]), 47_776);
    assert.equal(space.params([0]), 1_054);
    // SE relative to the block input (8 ch): 2 hidden units, 64 MACs, 64 + 2 + 16 params.
    const byInput = SearchSpace.fromDefinition({ ...tiny, se: { ratio: 0.25, reference: 'input' } });
    assert.equal(byInput.flops([0]), 47_712);
    assert.equal(byInput.params([0]), 988);
  });
});

describe('architecture validation, keys and labels', () => {
  it('given invalid architectures, then the error names the layer or the length', () => {
    assertArchitectureError(() => macro.validateArchitecture('22212220'), 'architecture', /must be an array/);
    assertArchitectureError(() => macro.validateArchitecture([0, 1]), 'architecture', /has 2 layers, expected 8/);
    assertArchitectureError(
      () => macro.validateArchitecture([0, 1, 2, 5, 0, 0, 0, 0]),
      'architecture[3]',
      /^architecture\[3\]: op 5 is outside 0\.\.2$/,
    );
    assertArchitectureError(() => macro.validateArchitecture([0, 1, 2, 1.5, 0, 0, 0, 0]), 'architecture[3]', /must be an integer/);
    assertArchitectureError(() => macro.validateArchitecture([0, -1, 2, 1, 0, 0, 0, 0]), 'architecture[1]', /op -1 is outside/);
    assertArchitectureError(() => macro.flops([0, 0, 0, 0, 0, 0, 0, '1' as unknown as number]), 'architecture[7]', /integer/);
  });

  it('given a valid architecture, then validation returns a copy', () => {
    const arch = [2, 2, 2, 1, 2, 2, 2, 0];
    const valid = macro.validateArchitecture(arch);
    assert.deepEqual(valid, arch);
    assert.notEqual(valid, arch);
  });

  it('given spaces of at most 10 ops, then keys are digits; otherwise dash-separated', () => {
    assert.equal(macro.encode([2, 2, 2, 1, 2, 2, 2, 0]), '22212220');
    assert.deepEqual(macro.decode('22212220'), [2, 2, 2, 1, 2, 2, 2, 0]);
    const arch = [12, 0, 7, 3, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 11];
    assert.equal(imagenet.encode(arch), '12-0-7-3-12-0-1-2-3-4-5-6-7-8-9-10-11-12-0-0-11');
    assert.deepEqual(imagenet.decode(imagenet.encode(arch)), arch);
  });

  it('given malformed keys, then decode names the bad position', () => {
    assertArchitectureError(() => macro.decode('2221222'), 'key', /"2221222" has 7 digits, expected 8/);
    assertArchitectureError(() => macro.decode('22212x20'), 'key[5]', /"x" is not an op index/);
    assertArchitectureError(() => macro.decode('22212250'), 'key[6]', /op 5 is outside 0\.\.2 \(key "22212250"\)/);
    const twentyOne = new Array(21).fill('0');
    assertArchitectureError(() => imagenet.decode(twentyOne.slice(1).join('-')), 'key', /has 20 dash-separated op indices, expected 21/);
    twentyOne[4] = '01';
    assertArchitectureError(() => imagenet.decode(twentyOne.join('-')), 'key[4]', /"01" is not an op index/);
    twentyOne[4] = '13';
    assertArchitectureError(() => imagenet.decode(twentyOne.join('-')), 'key[4]', /op 13 is outside 0\.\.12/);
  });

  it('given an architecture, then describe joins op labels by stage and parseArchitectureLabels reads it back', () => {
    assert.equal(macro.describe([2, 2, 2, 1, 2, 2, 2, 0]), 'k5e6 k5e6 | k5e6 k3e3 k5e6 | k5e6 k5e6 id');
    assert.deepEqual(parseArchitectureLabels(macro, 'k5e6 k5e6 | k5e6 k3e3 k5e6 | k5e6 k5e6 id'), [2, 2, 2, 1, 2, 2, 2, 0]);
    assert.deepEqual(parseArchitectureLabels(macro, 'k5e6 k5e6 k5e6 k3e3 k5e6 k5e6 k5e6 id'), [2, 2, 2, 1, 2, 2, 2, 0]);
    const rng = rngFor(1, 0, 'labels');
    for (let i = 0; i < 200; i++) {
      const arch = imagenet.randomArchitecture(rng);
      assert.deepEqual(parseArchitectureLabels(imagenet, imagenet.describe(arch)), arch);
    }
  });

  it('given seByDefault, then bare MBConv labels mean their SE variant', () => {
    const text = 'k3e6 id id k3e3 | k5e3 k5e3 k3e6 k3e3 | k3e3 id k5e6 k5e6 k5e6 k3e3 k3e3 k3e3 | k5e6 k5e3 k7e6 k3e3 k7e6-se';
    const plain = parseArchitectureLabels(imagenet, text);
    const se = parseArchitectureLabels(imagenet, text, { seByDefault: true });
    assert.deepEqual(plain.slice(0, 4), [2, 0, 0, 1]);
    assert.deepEqual(se.slice(0, 4), [8, 0, 0, 7]);
    assert.equal(plain[20], 12);
    assert.equal(se[20], 12);
  });

  it('given bad label strings, then the error names the stage or the position', () => {
    assertArchitectureError(() => parseArchitectureLabels(macro, 'id id | id id id id id id'), 'labels', /has 2 stages, the space has 3/);
    assertArchitectureError(
      () => parseArchitectureLabels(macro, 'id id id | id id | id id id'),
      'labels stage 0',
      /has 3 ops, expected 2/,
    );
    assertArchitectureError(() => parseArchitectureLabels(macro, 'id id id'), 'labels', /has 3 ops, expected 8/);
    assertArchitectureError(
      () => parseArchitectureLabels(macro, 'id id | id k9e3 id | id id id'),
      'labels[3]',
      /"k9e3" is not an op of layer 3 \(one of id, k3e3, k5e6\)/,
    );
  });
});

describe('canonical form', () => {
  it('given a non-first identity followed by an op in a stage, then the identity moves to the stage end', () => {
    assert.equal(macro.encode(macro.canonical(macro.decode('00001000'))), '00010000');
    assert.equal(macro.encode(macro.canonical(macro.decode('00000001'))), '00000010');
    assert.equal(macro.encode(macro.canonical(macro.decode('21001202'))), '21010220');
  });

  it('given an identity in a stage\'s first layer, then it stays (it is a 1x1 conv)', () => {
    for (const key of ['01111111', '11011111', '11111011']) {
      assert.equal(macro.encode(macro.canonical(macro.decode(key))), key);
    }
  });

  it('given any architecture, then canonical is idempotent', () => {
    const rng = rngFor(2, 0, 'canonical');
    for (let i = 0; i < 200; i++) {
      const once = imagenet.canonical(imagenet.randomArchitecture(rng));
      assert.deepEqual(imagenet.canonical(once), once);
    }
  });

  it('given a space without stages, then runs of shape-preserving layers with the same ops form the classes', () => {
    const ops = [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 1, se: false }];
    const space = SearchSpace.fromDefinition({
      name: 'flat',
      input: { size: 8, channels: 3 },
      stem: { channels: 16, kernel: 3, stride: 1 },
      layers: [
        { channels: 16, stride: 1, ops },
        { channels: 16, stride: 1, ops },
        { channels: 32, stride: 2, ops },
        { channels: 32, stride: 1, ops },
        { channels: 32, stride: 1, ops: [ops[1], ops[0]] },
      ],
      head: { channels: 32, classes: 2 },
    });
    assert.deepEqual(space.stages, [[0, 5]]);
    // Layers 0-1 form a run (layer 0 keeps the stem's shape); 2 changes shape; 3 and 4 list
    // their ops in different orders, so they are not merged.
    assert.deepEqual(space.canonical([0, 1, 0, 0, 0]), [1, 0, 0, 0, 0]);
    assert.equal(space.describe([0, 1, 0, 0, 0]), 'id k3e1 id id k3e1');
  });
});

describe('randomArchitecture', () => {
  it('given a seeded stream, then it draws one op per layer, reproducibly', () => {
    const rng = rngFor(7, 0, 'arch');
    assert.equal(macro.encode(macro.randomArchitecture(rng)), '00120220');
    assert.equal(macro.encode(macro.randomArchitecture(rng)), '21122010');
    assert.equal(rng.drawn, 16);
  });

  it('given 3000 draws, then each op of a layer is about equally frequent', () => {
    const rng = rngFor(5, 0, 'uniform-arch');
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) counts[macro.randomArchitecture(rng)[4]!]!++;
    // chi-square with 2 degrees of freedom, upper 0.1% point 13.82
    const chi2 = counts.reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0);
    assert.ok(chi2 < 13.82, `counts ${counts.join(',')}`);
  });
});

describe('scaledSpace', () => {
  it('given make_divisible, then channels round to multiples of 8, at least 8, never below 90%', () => {
    assert.deepEqual([3, 8, 10, 12, 20, 36, 80, 320].map((v) => makeDivisible(v)), [8, 8, 16, 16, 24, 40, 80, 320]);
  });

  it('given NAS-Bench-Macro at width 0.25 on 28x28x1, then all widths scale and FLOPs follow the new sizes', () => {
    const def = scaledSpace(nasBenchMacro, { widthMultiplier: 0.25, inputSize: 28, inputChannels: 1, classes: 10 });
    assert.equal(def.name, 'nas-bench-macro-x0.25-28px');
    assert.deepEqual(def.input, { size: 28, channels: 1 });
    assert.equal(def.stem.channels, 8);
    assert.deepEqual(def.layers.map((l) => l.channels), [16, 16, 32, 32, 32, 64, 64, 64]);
    assert.deepEqual(def.head, { channels: 320, classes: 10 });
    // 28 → 14 → 7 → 4. Stem 56,448; 1x1 transitions 25,088 + 25,088 + 32,768; head 327,680; FC 3,200.
    const space = SearchSpace.fromDefinition(def);
    assert.equal(space.flops(new Array(8).fill(0)), 470_272);
    assert.equal(space.params(new Array(8).fill(0)), 27_330);
  });

  it('given the ImageNet space at width 0.25, then the 80→96 layer no longer changes channels and its identity moves', () => {
    const space = SearchSpace.fromDefinition(
      scaledSpace(imagenetMctNas, { widthMultiplier: 0.25, inputSize: 28, inputChannels: 1, classes: 10 }),
    );
    assert.deepEqual(space.network.stem.blocks?.map((b) => b.channels), [8]);
    assert.equal(space.changesShape(12), false);
    const arch = new Array<number>(21).fill(1);
    arch[9] = 0;
    arch[12] = 0;
    assert.equal(space.encode(space.canonical(arch)), '1-1-1-1-1-1-1-1-1-1-1-1-1-1-0-0-1-1-1-1-1');
  });

  it('given bad options, then the error names the option or the resulting field', () => {
    const failsOn = (field: string) => (e: unknown) => hasCode(e, 'SearchSpaceError') && e.field === field;
    assert.throws(() => scaledSpace(nasBenchMacro, { widthMultiplier: 0 }), failsOn('widthMultiplier'));
    assert.throws(() => scaledSpace(nasBenchMacro, { inputSize: 0 }), failsOn('input.size'));
    assert.throws(() => scaledSpace(nasBenchMacro, { classes: 1 }), failsOn('head.classes'));
  });
});
