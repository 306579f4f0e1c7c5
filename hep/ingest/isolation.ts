/**
 * Particle-flow isolation (seed-pipeline.md §2.1): the event's three p_T maps
 * and PFIso of a particle against them.
 */
import type { DelphesEvent } from '../event.js';
import { CHARGED, IsolationGrid, NEUTRAL, PHOTON, type MapKind } from './isolationGrid.js';
import { hasDirection } from './kinematics.js';

/** Map entry cuts: tracks PT > 0.5, neutral hadrons and photons ET > 1.0. */
export const TRACK_MIN_PT = 0.5;
export const TOWER_MIN_ET = 1.0;

/**
 * PFIso from a map's cone sum: coneSumPt / pt, minus 1 with `subtractSelf`
 * (the charged map, for every particle type: it removes the particle's own
 * track). `pt` is the particle's massless-vector Pt (|PT| or |ET|); 0 when it
 * is not positive.
 */
export function pfIso(coneSumPt: number, pt: number, subtractSelf: boolean): number {
  if (pt <= 0) return 0;
  const iso = coneSumPt / pt;
  return subtractSelf ? iso - 1 : iso;
}

/** The maps of one event; refilled per event, buffers reused. */
export class IsolationMaps {
  /** ChIso, GammaIso, NeuIso (the row's column order) of the last isolate() call. */
  readonly iso = new Float64Array(3);
  private readonly grid: IsolationGrid;

  /** `correctWrap` false reproduces the seed's 2π-threshold Δφ. */
  constructor(correctWrap: boolean) {
    this.grid = new IsolationGrid(correctWrap);
  }

  /** Fills the maps from the event; call index() before isolate(). */
  fill(ev: DelphesEvent): void {
    const { track, neutral, photon } = ev;
    this.grid.clear();
    for (let i = 0; i < track.pt.length; i++) {
      const eta = track.eta[i]!;
      const phi = track.phi[i]!;
      const pt = track.pt[i]!;
      if (pt > TRACK_MIN_PT && hasDirection(eta, phi)) this.grid.add(CHARGED, eta, phi, pt);
    }
    this.addTowers(PHOTON, photon.et, photon.eta, photon.phi);
    this.addTowers(NEUTRAL, neutral.et, neutral.eta, neutral.phi);
  }

  /** The seed (faithful mode) rejects an event when any map has no entry. */
  anyEmpty(): boolean {
    return this.grid.size(CHARGED) === 0 || this.grid.size(PHOTON) === 0 || this.grid.size(NEUTRAL) === 0;
  }

  index(): void {
    this.grid.index();
  }

  /** Sets `iso` to the particle's ChIso, GammaIso, NeuIso. */
  isolate(pt: number, eta: number, phi: number): void {
    const sums = this.grid.coneSums;
    this.grid.sumInCone(eta, phi);
    this.iso[0] = pfIso(sums[CHARGED]!, pt, true);
    this.iso[1] = pfIso(sums[PHOTON]!, pt, false);
    this.iso[2] = pfIso(sums[NEUTRAL]!, pt, false);
  }

  private addTowers(kind: MapKind, et: ArrayLike<number>, eta: ArrayLike<number>, phi: ArrayLike<number>): void {
    for (let i = 0; i < et.length; i++) {
      const e = eta[i]!;
      const p = phi[i]!;
      const t = et[i]!;
      if (t > TOWER_MIN_ET && hasDirection(e, p)) this.grid.add(kind, e, p, t);
    }
  }
}
