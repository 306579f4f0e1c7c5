/**
 * The per-event particle matrix (seed-pipeline.md §2.3): the lepton row, then
 * tracks, photons and neutral hadrons in branch order, each block capped
 * ("skip when full"), packed contiguously, zero rows after.
 */
import type { DelphesEvent } from '../event.js';
import type { IngestConfig } from './config.js';
import { TOWER_MIN_ET, TRACK_MIN_PT, type IsolationMaps } from './isolation.js';
import { deltaR, hasDirection, writeMasslessVector } from './kinematics.js';
import { COL } from './layout.js';
import { PARTICLE_FEATURES, particleRows } from '../layout.js';
import type { SelectedLepton } from './selection.js';

/** A track this close to the lepton (ΔR, correctly wrapped) is the lepton's own and is left out. */
const SAME_AS_LEPTON_DR = 1e-4;

/** A fresh zeroed float32 matrix of particleRows(cfg) × 19, row-major. */
export function buildParticleMatrix(ev: DelphesEvent, maps: IsolationMaps, lepton: SelectedLepton, cfg: IngestConfig): Float32Array {
  const out = new Float32Array(particleRows(cfg) * PARTICLE_FEATURES);
  out.set(lepton.row);
  let at = PARTICLE_FEATURES;

  const faithful = cfg.mode === 'faithful';
  const track = ev.track;
  for (let i = 0, taken = 0; i < track.pt.length && taken < cfg.maxTracks; i++) {
    const pt = track.pt[i]!;
    const eta = track.eta[i]!;
    const phi = track.phi[i]!;
    if (!(pt > TRACK_MIN_PT) || !hasDirection(eta, phi)) continue;
    if (deltaR(lepton.eta, lepton.phi, eta, phi) <= SAME_AS_LEPTON_DR) continue;
    writeMeasuredParticle(out, at, maps, pt, eta, phi);
    out[at + COL.VTX_X] = track.x[i]!;
    out[at + COL.VTX_Y] = track.y[i]!;
    out[at + COL.VTX_Z] = track.z[i]!;
    out[at + COL.IS_CH_HAD] = 1;
    out[at + COL.CHARGE] = faithful ? Math.sign(track.pid[i]!) : track.charge[i]!;
    at += PARTICLE_FEATURES;
    taken++;
  }
  at = writeTowers(out, at, maps, ev.photon, cfg.maxPhotons, COL.IS_GAMMA);
  writeTowers(out, at, maps, ev.neutral, cfg.maxNeutrals, COL.IS_NEU_HAD);
  return out;
}

/** Photon or neutral-hadron rows (ET > 1; no vertex, charge 0); returns the offset after the last. */
function writeTowers(
  out: Float32Array,
  at: number,
  maps: IsolationMaps,
  towers: DelphesEvent['photon'],
  max: number,
  oneHotColumn: number,
): number {
  for (let i = 0, taken = 0; i < towers.et.length && taken < max; i++) {
    const et = towers.et[i]!;
    const eta = towers.eta[i]!;
    const phi = towers.phi[i]!;
    if (!(et > TOWER_MIN_ET) || !hasDirection(eta, phi)) continue;
    writeMeasuredParticle(out, at, maps, et, eta, phi);
    out[at + oneHotColumn] = 1;
    at += PARTICLE_FEATURES;
    taken++;
  }
  return at;
}

/** Columns 0–6 (vector, then the branch PT/ET, Eta, Phi) and 10–12 (isolations) of a row. */
function writeMeasuredParticle(out: Float32Array, at: number, maps: IsolationMaps, pt: number, eta: number, phi: number): void {
  writeMasslessVector(out, at + COL.E, pt, eta, phi);
  out[at + COL.PT] = pt;
  out[at + COL.ETA] = eta;
  out[at + COL.PHI] = phi;
  maps.isolate(pt, eta, phi);
  const iso = maps.iso;
  out[at + COL.CH_ISO] = iso[0]!;
  out[at + COL.GAMMA_ISO] = iso[1]!;
  out[at + COL.NEU_ISO] = iso[2]!;
}
