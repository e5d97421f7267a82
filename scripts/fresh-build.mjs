// `npm start` builds only when something the build reads changed since the last build: a
// restart with nothing changed skips `tsc -b` (1.6 s of loading the compiler just to learn
// there is nothing to do). Stale means: no stamp (a fresh clone, or a build that failed), or a
// source, config or lockfile modified after it. `npm run build` writes the stamp last
// (`--stamp`), so only a build that finished counts.
//   node scripts/fresh-build.mjs           build if stale
//   node scripts/fresh-build.mjs --stamp   record that a build just finished
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
/** What tsconfig.json, web/tsconfig.json and scripts/build-web.mjs read (bench/results is output). */
const INPUTS = ['src', 'test', 'migrations', 'bench', 'scripts', 'web', 'tsconfig.json', 'package.json', 'package-lock.json'];
const SKIP = new Set(['bench/results', 'node_modules', 'dist']);

function newestModification(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (!SKIP.has(child) && !SKIP.has(name)) newest = Math.max(newest, newestModification(child));
  }
  return newest;
}

if (process.argv.includes('--stamp')) {
  mkdirSync('dist', { recursive: true });
  closeSync(openSync(STAMP, 'a'));
  const now = new Date();
  utimesSync(STAMP, now, now);
} else {
  const built = statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const changed = Math.max(...INPUTS.map(newestModification));
  if (built < changed) {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
    process.exit(build.status ?? 1);
  }
}
