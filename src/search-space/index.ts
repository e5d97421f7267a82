export type { Architecture, FixedBlockSpec, LayerSpec, OpSpec, SearchSpaceDefinition } from './types.js';
export type { Cost } from './cost.js';
export { ArchitectureError, parseArchitectureLabels, SearchSpace, SearchSpaceError } from './search-space.js';
export {
  imagenetMctNas,
  makeDivisible,
  nasBenchMacro,
  presets,
  presetSpace,
  scaledSpace,
  type ScaleOptions,
} from './presets.js';
