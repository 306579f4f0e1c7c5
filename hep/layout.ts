/**
 * The data contract of the topology classifier: the shapes every step agrees
 * on. `ingest` writes 14 high-level features and an n × 19 particle matrix per
 * event, `features` scales and orders them, the models read them and predict
 * one of three classes. Defined here once; everything else imports them.
 */

/** High-level features per event (seed-pipeline.md §2.4). */
export const HLF_FEATURES = 14;
/** Features per particle row (seed-pipeline.md §2.3). */
export const PARTICLE_FEATURES = 19;
/** Labels 0, 1, 2. */
export const CLASSES = 3;
export const CLASS_NAMES = ['QCD', 'ttbar', 'W+jets'] as const;

/** Caps on the particle-list blocks after the lepton. */
export interface ParticleCaps {
  maxTracks: number;
  maxPhotons: number;
  maxNeutrals: number;
}

/** The seed's caps: 1 + 450 + 150 + 200 = 801 particle rows. */
export const DEFAULT_CAPS: Readonly<ParticleCaps> = Object.freeze({ maxTracks: 450, maxPhotons: 150, maxNeutrals: 200 });

/** Rows of the particle matrix: the lepton, then the three capped blocks (801 with the seed's caps). */
export function particleRows(caps: ParticleCaps): number {
  return 1 + caps.maxTracks + caps.maxPhotons + caps.maxNeutrals;
}

/** Parquet key-value metadata entry holding the particle rows per event (ingest and features files). */
export const PARTICLES_METADATA_KEY = 'topoflow.particles';
