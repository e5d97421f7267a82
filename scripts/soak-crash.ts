/** `npm run soak:crash [-- kills [commitKills]]`: the kill-and-resume scenario with 20 SIGKILLs at random instants and 4 inside in-flight commits (default). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashScenario } from './crash-harness.js';

const kills = Number(process.argv[2] ?? 20);
const commitKills = Number(process.argv[3] ?? 4);
const result = await runCrashScenario({ workDir: mkdtempSync(join(tmpdir(), 'mctnas-soak-')), kills, commitKills, seed: Date.now() % 100_000, log: (l) => console.log(l) });
console.log(JSON.stringify(result, null, 2));
process.exitCode = result.identicalHistory && result.identicalTree && result.kills >= kills && result.commitKills >= commitKills ? 0 : 1;
