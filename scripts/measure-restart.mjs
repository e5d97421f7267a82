// Wall time from spawning `npm start` to the first `/health` 200, on a second start (the default
// experiment exists, nothing to build): RUNS starts (default 5), median. The first, unmeasured
// start creates the data directory and the experiment; every start is SIGKILLed (its process
// group) once /health answered, which PGlite survives.
//   node scripts/measure-restart.mjs [--runs 5] [--data-dir DIR] [--port 3999] [-- command...]
// The command defaults to `npm start`; pass another (e.g. `-- node dist/src/main.js`) to compare.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const argv = process.argv.slice(2);
const split = argv.includes('--') ? argv.indexOf('--') : argv.length;
const options = argv.slice(0, split);
const flag = (name, fallback) => (options.includes(name) ? options[options.indexOf(name) + 1] : fallback);
const runs = Number(flag('--runs', 5));
const port = Number(flag('--port', 3999));
const dataDir = flag('--data-dir', mkdtempSync(join(tmpdir(), 'mctnas-restart-')));
const command = split < argv.length ? argv.slice(split + 1) : ['npm', 'start'];

async function start(untilReady = async () => true) {
  const began = process.hrtime.bigint();
  const child = spawn(command[0], command.slice(1), {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PORT: String(port), MCTNAS_DATA_DIR: dataDir },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  try {
    for (;;) {
      if (exitedEarly) throw new Error(`${command.join(' ')} exited before /health answered`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
      if (ok) {
        const seconds = Number(process.hrtime.bigint() - began) / 1e9;
        while (!(await untilReady())) await sleep(100);
        return seconds;
      }
      await sleep(20);
    }
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    await exited;
  }
}

console.error(`data directory ${dataDir}; first start (not measured)...`);
// the first start creates the default experiment right after listening: kill it only once it exists
const experimentExists = () =>
  fetch(`http://127.0.0.1:${port}/experiments`).then((r) => r.json().then((body) => JSON.stringify(body).includes('default')), () => false);
const first = await start(experimentExists);
console.error(`  first start: ${first.toFixed(2)} s`);
const times = [];
for (let i = 0; i < runs; i++) {
  times.push(await start());
  console.error(`  run ${i + 1}: ${times.at(-1).toFixed(2)} s`);
}
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify({ command: command.join(' '), runs: times, median: sorted[Math.floor(sorted.length / 2)] }));
