/**
 * Loaded with `--import` into a trainer process by the crash harness (scripts/crash-harness.ts),
 * never by the service: SIGKILLs the process in the middle of a commit. With
 * MCTNAS_KILL_IN_COMMIT=<step>:<writes>, the append carrying step <step>'s reward (with
 * write-behind, the one also carrying the sample of step <step>+1 while that step trains) is
 * armed, and the process dies at that append's <writes>-th file write: the embedded database has
 * written part of the commit and not the rest.
 */
import { createRequire } from 'node:module';
import { EventStore } from '../src/events/event-store.js';

const [step, writes] = (process.env.MCTNAS_KILL_IN_COMMIT ?? '').split(':').map(Number);
if (Number.isInteger(step) && Number.isInteger(writes) && writes! >= 1) {
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  let armed = false;
  let count = 0;
  const writeSync = fs.writeSync;
  fs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (armed && ++count >= writes!) process.kill(process.pid, 'SIGKILL');
    return writeSync(...args);
  }) as typeof fs.writeSync;
  const append = EventStore.prototype.append;
  EventStore.prototype.append = function (this: EventStore, ...args: Parameters<typeof append>) {
    if (args[2].some((e) => e.idempotencyKey === `step:${step}:reward`)) armed = true;
    return append.apply(this, args);
  };
}
