#!/usr/bin/env node
/**
 * Writes table.csv beside this script: a SYNTHETIC tabular benchmark for the example spec
 * (spec.json), made up to show the generic table format, not measured on any network.
 *
 * The space is a NAS-Bench-201-style cell: 6 edges, each one of 5 named ops (none, skip,
 * conv1x1, conv3x3, avgpool), 5^6 = 15,625 architectures. Every row gets
 *   quality  = 0.70 + sum over edges of effect[edge][op] + 0.001 * (number of conv edges)^2
 *              - 0.02 when the cell has no conv at all            (deterministic, from seed 201)
 *   valid_s  = quality + N(0, 0.004) per training run s = 0, 1, 2  (fractions in [0, 1])
 *   test     = quality + N(0, 0.002)                              (the ground truth column)
 * with the effects drawn once from a seeded generator (mulberry32 + Box-Muller), so the file is
 * the same on every machine. Accuracies are fractions on purpose: the spec says "scale": 100.
 *
 *   node examples/cell-6x5/make-table.mjs [out.csv]   # default: table.csv beside it; ~1.1 MB, under a second
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OPS = ['none', 'skip', 'conv1x1', 'conv3x3', 'avgpool'];
const EDGES = 6;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = mulberry32(201);
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

// Mean effect of each op (none hurts, convolutions help), plus an edge-specific part.
const MEAN = { none: -0.03, skip: 0.0, conv1x1: 0.015, conv3x3: 0.03, avgpool: -0.005 };
const effect = Array.from({ length: EDGES }, () => OPS.map((op) => MEAN[op] + 0.006 * normal()));

const lines = ['arch,valid_0,valid_1,valid_2,test'];
const ops = new Array(EDGES).fill(0);
for (let code = 0; code < OPS.length ** EDGES; code++) {
  for (let e = EDGES - 1, c = code; e >= 0; e--, c = Math.floor(c / OPS.length)) ops[e] = c % OPS.length;
  const convs = ops.filter((op) => OPS[op].startsWith('conv')).length;
  const quality = 0.7 + ops.reduce((sum, op, e) => sum + effect[e][op], 0) + 0.001 * convs * convs - (convs === 0 ? 0.02 : 0);
  const clamp = (x) => Math.min(1, Math.max(0, x)).toFixed(5);
  const valid = [0, 1, 2].map(() => clamp(quality + 0.004 * normal()));
  lines.push([ops.map((op) => OPS[op]).join('-'), ...valid, clamp(quality + 0.002 * normal())].join(','));
}
const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'table.csv');
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${out}: ${lines.length - 1} architectures`);
