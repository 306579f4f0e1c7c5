/**
 * Stage-1 settings: the seed's cuts and caps (seed-pipeline.md §2.2–2.3) and
 * the choice between reproducing the published code's quirks (§2.7) or not.
 */

/**
 * `faithful`: the seed as published, bugs included (2π Δφ threshold in the
 * isolation, first passing lepton per flavour, e/μ choice on Eta, MT without
 * the square root, track charge = sign(PID), `empty_maps` rejection).
 * `fixed`: those corrected.
 */
export type IngestMode = 'faithful' | 'fixed';

import { DEFAULT_CAPS, type ParticleCaps } from '../layout.js';

export interface IngestConfig extends ParticleCaps {
  mode: IngestMode;
  /** A lepton needs PT strictly above this (GeV). */
  ptCut: number;
  /** A lepton needs ChIso + NeuIso + GammaIso strictly below this. */
  isoCut: number;
  // The caps (ParticleCaps) are "skip when full", in branch order.
}

/** The seed's cuts and caps; mode `fixed` because new work should not inherit the bugs. */
export const DEFAULT_INGEST: Readonly<IngestConfig> = Object.freeze({
  mode: 'fixed',
  ptCut: 23,
  isoCut: 0.45,
  ...DEFAULT_CAPS,
});

/** Throws a RangeError naming the first bad field; a bad config would otherwise surface as odd features. */
export function validateIngestConfig(cfg: IngestConfig): void {
  if (cfg.mode !== 'faithful' && cfg.mode !== 'fixed') {
    throw new RangeError(`stage1 mode must be 'faithful' or 'fixed', got ${JSON.stringify(cfg.mode)}`);
  }
  for (const key of ['ptCut', 'isoCut'] as const) {
    if (!Number.isFinite(cfg[key])) throw new RangeError(`stage1 ${key} must be a finite number, got ${cfg[key]}`);
  }
  for (const key of ['maxTracks', 'maxPhotons', 'maxNeutrals'] as const) {
    if (!Number.isSafeInteger(cfg[key]) || cfg[key] < 0) {
      throw new RangeError(`stage1 ${key} must be a non-negative integer, got ${cfg[key]}`);
    }
  }
}
