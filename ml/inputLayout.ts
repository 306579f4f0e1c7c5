/**
 * What a trained model expects of its input events, and what a stage-1 data
 * set offers: the particle rows per event (1 + the caps), the padding
 * convention stage 2 applied, and the stage-1 mode (faithful/fixed change how
 * some high-level features are computed). Scoring a model on data of another
 * layout would give numbers that mean nothing, so a mismatch is an error.
 */
import { BadInputError } from '../common/errors.js';
import type { ParticleCaps } from '../hep/layout.js';

export interface InputLayout {
  /** Particle rows per event (1 + maxTracks + maxPhotons + maxNeutrals); null when unknown. */
  particles: number | null;
  caps: ParticleCaps | null;
  padding: 'masked' | 'faithful' | null;
  /** Stage 1's `mode`; null when unknown. */
  stage1Mode: string | null;
}

/** "151 particle rows (caps 100/25/25), padding masked, stage-1 mode fixed"; unknown parts are left out. */
export function describeLayout(l: InputLayout): string {
  const parts: string[] = [];
  if (l.particles !== null) parts.push(`${l.particles} particle rows${l.caps ? ` (caps ${l.caps.maxTracks}/${l.caps.maxPhotons}/${l.caps.maxNeutrals})` : ''}`);
  if (l.padding !== null) parts.push(`padding ${l.padding}`);
  if (l.stage1Mode !== null) parts.push(`stage-1 mode ${l.stage1Mode}`);
  return parts.join(', ') || 'unknown layout';
}

/**
 * Throws a BadInputError naming both sides when the data does not fit the
 * model. Particle rows and padding only matter to models that read the
 * particle list; a field unknown on either side is not compared.
 */
export function checkLayout(model: { name: string; layout: InputLayout; readsParticles: boolean }, data: { name: string; layout: InputLayout }): void {
  const differs = (a: unknown, b: unknown) => a !== null && b !== null && a !== b;
  const problems: string[] = [];
  if (model.readsParticles && differs(model.layout.particles, data.layout.particles)) problems.push('particle rows');
  if (model.readsParticles && differs(model.layout.padding, data.layout.padding)) problems.push('padding mode');
  if (differs(model.layout.stage1Mode, data.layout.stage1Mode)) problems.push('stage-1 mode');
  if (!problems.length) return;
  throw new BadInputError(
    `${model.name} was trained on ${describeLayout(model.layout)}; ${data.name} has ${describeLayout(data.layout)}: the ${problems.join(' and ')} differ. ` +
      'Score data made with the training run\'s caps and stage-1 mode (and, for a particle model, its padding).',
  );
}
