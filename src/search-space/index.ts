export {
  architectureSchema,
  searchSpaceDefinitionSchema,
  type Architecture,
  type FixedBlockSpec,
  type LayerSpec,
  type OpSpec,
  type SearchSpaceDefinition,
} from './definition.js';
export type { Cost } from './cost.js';
export { architectureError, searchSpaceError } from './errors.js';
export { parseArchitectureLabels, SearchSpace } from './search-space.js';
export {
  imagenetMctNas,
  makeDivisible,
  nasBenchMacro,
  presets,
  presetSpace,
  scaledSpace,
  type ScaleOptions,
} from './presets.js';
