import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerTabularCommand, runTabularExperiment, type TabularOptions } from '../../src/cli/tabular.js';
import { loadTable } from '../../src/tabular/table.js';
import { csvOf, tempFile, tinyRows, tinySpec } from './fixtures.js';

describe('mctnas tabular', () => {
  it('runs one experiment on the embedded database and prints the chosen architecture, its true accuracy and rank, and the experiment id', async () => {
    const table = tempFile('.csv', csvOf(tinyRows()));
    const spec = join(mkdtempSync(join(tmpdir(), 'mctnas-spec-')), 'spec.json');
    writeFileSync(spec, JSON.stringify(tinySpec));
    const options: TabularOptions = {
      table,
      spec,
      schedule: { stepsPerEpoch: 5, warmupSteps: 5, treeBuildingSteps: 10, mctSteps: 10 },
      seed: 1,
      proxy: { noise: 0.2, validationNoise: 0.25 },
      strategy: 'hierarchical',
      candidates: 3,
      flopsWindow: null,
      resume: null,
      database: { databaseUrl: null, dataDir: mkdtempSync(join(tmpdir(), 'mctnas-cli-')) },
    };
    const lines: string[] = [];
    const result = await runTabularExperiment(options, { print: (line) => lines.push(line), progress: null });

    const truth = loadTable(table, tinySpec);
    assert.equal(result.truth, truth.truth(result.architecture));
    assert.equal(result.rank, truth.rank(result.architecture));
    assert.equal(result.key, truth.key(result.architecture));
    const output = lines.join('\n');
    assert.match(output, new RegExp(`experiment +${result.experimentId} \\(pglite at `));
    assert.match(output, new RegExp(`chosen +${result.key} `));
    assert.match(output, new RegExp(`true acc +${result.truth.toFixed(3)} %, rank ${result.rank} of 6`));
    assert.match(output, /training +25 steps \(warm-up 5, tree building 10, MCT sampling 10\), seed 1/);
  });

  it('registers as a sub-command with the schedule in steps', () => {
    const program = new Command('mctnas');
    const command = registerTabularCommand(program);
    assert.equal(command.name(), 'tabular');
    const flags = command.options.map((o) => o.long);
    for (const flag of ['--table', '--spec', '--warmup-steps', '--tree-building-steps', '--mct-steps', '--seed', '--noise', '--strategy', '--candidates', '--resume']) {
      assert.ok(flags.includes(flag), flag);
    }
  });
});
