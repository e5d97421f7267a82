/** `npm run soak:crash [-- kills]`: the kill-and-resume scenario with 20 SIGKILLs (default). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashScenario } from './crash-harness.js';

const kills = Number(process.argv[2] ?? 20);
const result = await runCrashScenario({ workDir: mkdtempSync(join(tmpdir(), 'mctnas-soak-')), kills, seed: Date.now() % 100_000, log: (l) => console.log(l) });
console.log(JSON.stringify(result, null, 2));
process.exitCode = result.identicalHistory && result.identicalTree && result.kills >= kills ? 0 : 1;
