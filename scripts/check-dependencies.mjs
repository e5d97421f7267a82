// The dependency rules of src/ (README, "Architecture"), checked on the TypeScript sources with
// dependency-cruiser; type-only imports count. Fails (exit 1) on
//   (a) any import cycle between modules,
//   (b) any cycle between folders of src/ (a file directly in src/ is its own unit), from the
//       module graph: folder A depends on folder B when a module of A imports one of B,
//   (c) a core folder importing a folder or root file outside the core, or a framework.
// Usage: npm run check:deps (npm test runs it before the tests, and fails when it fails)
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const CORE = ['random', 'search-space', 'tree', 'search', 'analysis', 'kernel'];
const FRAMEWORKS = [/^@nestjs\//, /^typeorm(\/|$)/, /^typeorm-/, /^pg(\/|$)/, /^pg-/, /^@electric-sql\//, /^@tensorflow\//];

const result = await cruise(
  ['src'],
  {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // package.json "exports" as Node resolves an ESM import (e.g. csv-parse/sync)
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
  {},
  { tsConfig: extractTSConfig('tsconfig.json') },
);
const modules = result.output.modules.filter((m) => m.source.startsWith('src/'));

/** `src/tree/evolve.ts` -> `tree`; a file directly in src/ is its own unit (`runtime.ts`). */
const unitOf = (path) => path.slice('src/'.length).split('/')[0];
const isCore = (unit) => CORE.includes(unit);

const imports = new Map(); // module -> modules of src/ it imports
const unitEdges = new Map(); // unit -> unit -> the imports that make the edge
const violations = [];
for (const m of modules) {
  const local = [];
  for (const d of m.dependencies) {
    if (d.couldNotResolve) violations.push(`${m.source}: cannot resolve '${d.module}'`);
    if (d.resolved.startsWith('src/')) {
      local.push(d.resolved);
      const [from, to] = [unitOf(m.source), unitOf(d.resolved)];
      if (from !== to) {
        if (!unitEdges.has(from)) unitEdges.set(from, new Map());
        if (!unitEdges.get(from).has(to)) unitEdges.get(from).set(to, []);
        unitEdges.get(from).get(to).push(`${m.source} -> ${d.resolved}`);
        if (isCore(from) && !isCore(to)) violations.push(`core '${from}' imports non-core '${to}': ${m.source} -> ${d.resolved}`);
      }
    } else if (isCore(unitOf(m.source)) && FRAMEWORKS.some((pattern) => pattern.test(d.module))) {
      violations.push(`core '${unitOf(m.source)}' imports the framework '${d.module}': ${m.source}`);
    }
  }
  imports.set(m.source, local);
}

/** Strongly connected components with more than one node (Tarjan), each as a cycle to print. */
function cycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest cycle through `start` inside `component` (breadth-first back to start). */
function cycleThrough(graph, component, start) {
  const inside = new Set(component);
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let u = previous.get(v); u !== null; u = previous.get(u)) path.unshift(u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const moduleCycles = cycles(imports);
const unitGraph = new Map([...unitEdges].map(([from, to]) => [from, [...to.keys()]]));
const unitCycles = cycles(unitGraph);

console.log(`dependency check: ${modules.length} modules, ${unitGraph.size} folders and root files of src/`);
console.log(`(a) module cycles: ${moduleCycles.length === 0 ? 'none' : moduleCycles.length}`);
for (const component of moduleCycles) console.log(`    ${cycleThrough(imports, component, component[0]).join(' -> ')}`);
console.log(`(b) folder cycles: ${unitCycles.length === 0 ? 'none' : unitCycles.length}`);
for (const component of unitCycles) {
  // every dependency inside the component: removing enough of them breaks the cycle
  console.log(`    ${component.join(', ')} depend on each other, e.g. ${cycleThrough(unitGraph, component, component[0]).join(' -> ')}:`);
  for (const from of component) {
    for (const [to, lines] of unitEdges.get(from) ?? []) {
      if (!component.includes(to)) continue;
      console.log(`      ${from} -> ${to}: ${lines[0]}${lines.length > 1 ? ` (+${lines.length - 1} more)` : ''}`);
    }
  }
}
console.log(`(c) core (${CORE.join(', ')}) importing outside the core or a framework: ${violations.length === 0 ? 'none' : violations.length}`);
for (const violation of violations) console.log(`    ${violation}`);
process.exit(moduleCycles.length + unitCycles.length + violations.length === 0 ? 0 : 1);
