/** The MCT-NAS tree: pure projection, decisions, snapshots, read models and what-if replay. */
export * from './state.js';
export * from './store.js';
export * from './evolve.js';
export * from './schedule.js';
export * from './policy.js';
export * from './space-model.js';
export * from './sampling.js';
export * from './reward.js';
export * from './queries.js';
export * from './snapshot.js';
export * from './what-if.js';
