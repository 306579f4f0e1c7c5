/**
 * Declarative model definitions: the `models:` section of pipelines.yaml and
 * the `model` of a `train` stage. Pure zod (no TensorFlow.js), so configuration
 * checks can run anywhere; ml/build.ts compiles a spec to tfjs layers.
 *
 *   inclusive:
 *     branches:                     # one per input, run side by side
 *       particles: [{ masking: 0 }, { gru: 50 }, { dropout: 0.2 }]
 *       hlf: [{ dropout: 0.2 }]
 *     layers:                       # on the concatenated branch outputs
 *       - { dense: 25, activation: relu }
 *       - { dense: 3, activation: softmax }
 *
 * A single-input model writes `input: hlf` instead of `branches`.
 */
import { z } from 'zod';
import { CLASSES } from '../hep/layout.js';

/** The two inputs stage 2 provides: 14 scaled high-level features, and the n × 19 particle list. */
export const ModelInput = z.enum(['hlf', 'particles']);
export type ModelInput = z.infer<typeof ModelInput>;

const Units = z.number().int().min(1).max(4096);
const Activation = z.enum(['relu', 'tanh', 'sigmoid', 'softmax', 'linear']);

const Dense = z.strictObject({ dense: Units, activation: Activation.default('linear') });
const Dropout = z.strictObject({ dropout: z.number().min(0).lt(1) });
const Masking = z.strictObject({ masking: z.number() });
const Gru = z.strictObject({
  gru: Units,
  activation: z.enum(['tanh']).default('tanh'),
  /** Keras 2+ uses sigmoid; tfjs defaults to hardSigmoid, so it is spelled out. */
  recurrentActivation: z.enum(['sigmoid', 'hardSigmoid']).default('sigmoid'),
  /** `fast`: topoflow's GRU (one matMul for all inputs, hand-written backprop); `stock`: tf.layers.gru. */
  impl: z.enum(['fast', 'stock']).default('fast'),
});
const Lstm = z.strictObject({
  lstm: Units,
  activation: z.enum(['tanh']).default('tanh'),
  /** `fast`: topoflow's LSTM (as the fast GRU); `stock`: tf.layers.lstm. Both: sigmoid gates, unit forget bias. */
  impl: z.enum(['fast', 'stock']).default('fast'),
});

const LAYERS = { dense: Dense, dropout: Dropout, masking: Masking, gru: Gru, lstm: Lstm } as const;
export type LayerKind = keyof typeof LAYERS;
const LAYER_HELP = 'expected one layer: { dense: N, activation }, { dropout: rate }, { masking: value }, { gru: N }, or { lstm: N }';

/** The layer's type is the one key naming a layer; its schema then checks the rest, so errors speak of that layer. */
export const LayerSpec = z.unknown().transform((value, ctx): z.output<(typeof LAYERS)[LayerKind]> => {
  const kinds = value !== null && typeof value === 'object' ? (Object.keys(value) as LayerKind[]).filter((k) => k in LAYERS) : [];
  if (kinds.length !== 1) {
    ctx.addIssue({ code: 'custom', message: kinds.length ? `one layer per entry; found ${kinds.join(' and ')}` : LAYER_HELP });
    return z.NEVER;
  }
  const kind = kinds[0]!;
  const parsed = LAYERS[kind].safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const allowed = Object.keys(LAYERS[kind].shape).join(', ');
    const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')} for a ${kind} layer; expected: ${allowed}` : issue.message;
    ctx.addIssue({ code: 'custom', path: issue.path, message });
  }
  return z.NEVER;
});
export type LayerSpec = z.infer<typeof LayerSpec>;

/** The layer's type: the one key naming a layer (the schema guarantees exactly one). */
export const layerKind = (l: LayerSpec): LayerKind => (Object.keys(LAYERS) as LayerKind[]).find((k) => k in l)!;

const RECURRENT = (l: LayerSpec) => 'gru' in l || 'lstm' in l;

export const ModelSpec = z
  .strictObject({
    /** Filled in from the `models:` key when a stage names its model. */
    name: z.string().optional(),
    description: z.string().optional(),
    input: ModelInput.optional(),
    branches: z.partialRecord(ModelInput, z.array(LayerSpec)).optional(),
    layers: z.array(LayerSpec).min(1),
  })
  .superRefine((m, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    if ((m.input === undefined) === (m.branches === undefined)) issue([], 'give exactly one of `input` (one input) or `branches` (several)');
    if (m.branches && Object.keys(m.branches).length === 0) issue(['branches'], 'no branches; expected hlf and/or particles');
    // Where each layer list sits, and whether it sees the particle sequence.
    const lists: Array<{ path: Array<string | number>; layers: LayerSpec[]; sequence: boolean }> = [
      ...Object.entries(m.branches ?? {}).map(([input, layers]) => ({ path: ['branches', input], layers: layers ?? [], sequence: input === 'particles' })),
      { path: ['layers'], layers: m.layers, sequence: m.input === 'particles' },
    ];
    for (const { path, layers, sequence } of lists) {
      const recurrent = layers.filter(RECURRENT).length;
      if (sequence && recurrent !== 1) issue(path, `the particle sequence needs exactly one recurrent layer (gru or lstm) to become a vector; found ${recurrent}`);
      if (!sequence && recurrent > 0) issue(path, 'recurrent layers (gru, lstm) need the particle sequence: put them in the particles branch');
      layers.forEach((l, i) => {
        if ('masking' in l && !(sequence && i === 0)) issue([...path, i], 'masking must be the first layer applied to the particle sequence');
      });
    }
    const last = m.layers[m.layers.length - 1];
    if (last && !('dense' in last && last.dense === CLASSES && last.activation === 'softmax')) {
      issue(['layers', m.layers.length - 1], `the last layer must be { dense: ${CLASSES}, activation: softmax } (one probability per class: QCD, ttbar, W+jets)`);
    }
  });
export type ModelSpec = z.infer<typeof ModelSpec>;

/** The model's branches, in a fixed order (particles first, like the seed's inclusive model). */
export function branchesOf(m: ModelSpec): Array<[ModelInput, LayerSpec[]]> {
  const b = m.branches ?? (m.input ? { [m.input]: [] } : {});
  return (['particles', 'hlf'] as const).filter((i) => b[i] !== undefined).map((i) => [i, b[i]!]);
}

/** The layer list that applies to the particle sequence (branch, or the whole single-input model). */
export function particleLayers(m: ModelSpec): LayerSpec[] | undefined {
  if (m.input === 'particles') return m.layers;
  return m.branches?.particles;
}

/** Masked sequences whose padding trails can be trimmed to the batch's longest event: exact under masking. */
export function masksPadding(m: ModelSpec): boolean {
  const first = particleLayers(m)?.[0];
  return first !== undefined && 'masking' in first && first.masking === 0;
}

export const usesInput = (m: ModelSpec, input: ModelInput) => branchesOf(m).some(([i]) => i === input);
