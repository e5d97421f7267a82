/**
 * The plain-data description of a weight-sharing search space, as a zod schema with its types
 * inferred from it. Presets and user-defined JSON spaces are values of this type; `SearchSpace`
 * (search-space.ts) validates one further and wraps it with behaviour. The event catalogue
 * records a definition in `ExperimentCreated` with this schema. Pure: zod only.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const stride = z.union([z.literal(1), z.literal(2)]);

/** One op index per searchable layer. */
export const architectureSchema = z.array(nonNegativeInt).min(1);
/** Read-only: functions take any array of op indices, a frozen stored one included. */
export type Architecture = Readonly<z.infer<typeof architectureSchema>>;

/** One candidate operation of a searchable layer. */
export const opSpecSchema = z.discriminatedUnion('type', [
  /** Identity; becomes a 1x1 conv + BN when resolution or channels change. */
  z.object({ type: z.literal('identity') }),
  /** MobileNetV2 inverted residual (MBConv): 1x1 expand, kxk depthwise, optional SE, 1x1 project. */
  z.object({ type: z.literal('mbconv'), kernel: positiveInt, expansion: z.number().positive(), se: z.boolean() }),
]);
export type OpSpec = z.infer<typeof opSpecSchema>;

/** A fixed (not searched) MBConv block, e.g. the ImageNet space's k3 e1 block after the stem. */
export const fixedBlockSpecSchema = z.object({
  kernel: positiveInt,
  expansion: z.number().positive(),
  se: z.boolean(),
  channels: positiveInt,
  stride,
});
export type FixedBlockSpec = z.infer<typeof fixedBlockSpecSchema>;

/** A searchable layer: every op maps `channels` of the previous layer to `channels` here. */
export const layerSpecSchema = z.object({ channels: positiveInt, stride, ops: z.array(opSpecSchema).min(1) });
export type LayerSpec = z.infer<typeof layerSpecSchema>;

export const searchSpaceDefinitionSchema = z.object({
  name: z.string().min(1),
  input: z.object({ size: positiveInt, channels: positiveInt }),
  stem: z.object({ channels: positiveInt, kernel: positiveInt, stride, blocks: z.array(fixedBlockSpecSchema).optional() }),
  layers: z.array(layerSpecSchema).min(1),
  head: z.object({ channels: positiveInt, classes: z.number().int().min(2) }),
  /** Squeeze-excitation reduction: SE hidden width = round(ratio * reference channels). */
  se: z.object({ ratio: z.number().positive().max(1), reference: z.enum(['input', 'expanded']) }).optional(),
  /** Activation used inside blocks (does not change FLOPs/params). */
  activation: z.enum(['relu', 'relu6', 'swish']).optional(),
  /** Stages as layer-index ranges [start, end): used for canonical forms. */
  stages: z.array(z.tuple([nonNegativeInt, nonNegativeInt])).optional(),
});
export type SearchSpaceDefinition = z.infer<typeof searchSpaceDefinitionSchema>;

/**
 * A space of plain named choices (a tabular benchmark's cell: e.g. 6 edges x 5 named ops): one
 * list of op names per layer, no network description, so no cost model (no FLOPs, no params,
 * no FLOPs window) and nothing to train: only an oracle (a table) can answer for it.
 */
export const namedOpSchema = z.object({ type: z.literal('named'), name: z.string().min(1).max(100) }).strict();
export type NamedOp = z.infer<typeof namedOpSchema>;
export const namedSpaceDefinitionSchema = z
  .object({
    name: z.string().min(1),
    layers: z.array(z.object({ ops: z.array(namedOpSchema).min(1) }).strict()).min(1),
  })
  .strict();
export type NamedSpaceDefinition = z.infer<typeof namedSpaceDefinitionSchema>;

/** Any space an experiment can record: a network of MBConv/identity layers, or named choices. */
export const anySpaceDefinitionSchema = z.union([searchSpaceDefinitionSchema, namedSpaceDefinitionSchema]);
export type AnySpaceDefinition = SearchSpaceDefinition | NamedSpaceDefinition;

/** True for a space of named choices (no `input`: no network described). */
export function isNamedSpace(definition: AnySpaceDefinition): definition is NamedSpaceDefinition {
  return !('input' in definition);
}
