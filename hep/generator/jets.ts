/**
 * Jets from the reconstructed constituents of each parton (anti-kT-like:
 * R = 0.4 around the parton axis), merged when two axes are closer than R
 * (boosted W and top decays give one fat jet with mass). Kinematics use the
 * small-angle moments of the constituents: pT = Σ pT_i, axis = pT-weighted
 * centroid, m² = Σ_{i<j} pT_i pT_j ΔR_ij² = P·Q − |S|². B-tagging follows
 * Delphes: an efficiency by the true flavour, independent of the tracks, so
 * that the displaced tracks of untagged b-jets are information the
 * event-level features do not have.
 */
import { wrapPhi } from './kinematics.js';
import type { Collection } from './record.js';
import type { Rng } from '../../common/rng.js';
import { Flavour } from './truth.js';

export const JET_RADIUS = 0.4;
export const JET_PT_MIN = 20;
const R2 = JET_RADIUS * JET_RADIUS;
const BTAG_ETA_MAX = 2.5;
const MAX = 32;

/** Tag probability by flavour: b 70 %, c 15 %, τ 3 %, light and gluon 2 % (mistags). */
function tagProbability(flavour: number): number {
  return flavour === Flavour.bottom ? 0.7 : flavour === Flavour.charm ? 0.15 : flavour === Flavour.tauHadronic ? 0.03 : 0.02;
}

/** When jets merge, the heaviest flavour labels the result. */
function flavourRank(flavour: number): number {
  return flavour === Flavour.bottom ? 3 : flavour === Flavour.charm ? 2 : flavour === Flavour.tauHadronic ? 1 : 0;
}

type JetColumns = 'PT' | 'Eta' | 'Phi' | 'Mass' | 'BTag';

export class JetBuilder {
  private n = 0;
  private readonly axisEta = new Float64Array(MAX);
  private readonly axisPhi = new Float64Array(MAX);
  private readonly flavour = new Int32Array(MAX);
  /** Σ pT, Σ pT·Δη, Σ pT·Δφ, Σ pT·ΔR² of constituents relative to the axis. */
  private readonly p = new Float64Array(MAX);
  private readonly sEta = new Float64Array(MAX);
  private readonly sPhi = new Float64Array(MAX);
  private readonly q = new Float64Array(MAX);
  private readonly order = new Int32Array(MAX);

  reset(): void {
    this.n = 0;
  }

  /** Starts the proto-jet of a parton; returns its index (-1 when full: its constituents are not clustered). */
  start(eta: number, phi: number, flavour: number): number {
    if (this.n === MAX) return -1;
    const i = this.n++;
    this.axisEta[i] = eta;
    this.axisPhi[i] = phi;
    this.flavour[i] = flavour;
    this.p[i] = 0;
    this.sEta[i] = 0;
    this.sPhi[i] = 0;
    this.q[i] = 0;
    return i;
  }

  /** A reconstructed constituent at (dEta, dPhi) from the axis of proto-jet i. */
  add(i: number, pt: number, dEta: number, dPhi: number): void {
    const r2 = dEta * dEta + dPhi * dPhi;
    if (i < 0 || r2 >= R2) return;
    this.p[i] = this.p[i]! + pt;
    this.sEta[i] = this.sEta[i]! + pt * dEta;
    this.sPhi[i] = this.sPhi[i]! + pt * dPhi;
    this.q[i] = this.q[i]! + pt * r2;
  }

  /** Merges overlapping proto-jets and writes jets above JET_PT_MIN, hardest first. */
  write(rng: Rng, out: Collection<JetColumns>): void {
    const n = this.n;
    const { p, order } = this;
    for (let i = 0; i < n; i++) order[i] = i;
    sortByDescending(order, n, p);
    // Merge softer proto-jets into harder ones; merged[j] keeps its own axis as reference.
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const j = order[k]!;
      if (p[j]! <= 0) continue;
      const eta = this.axisEta[j]! + this.sEta[j]! / p[j]!;
      const phi = this.axisPhi[j]! + this.sPhi[j]! / p[j]!;
      let into = -1;
      for (let m = 0; m < kept; m++) {
        const t = order[m]!;
        const dEta = eta - (this.axisEta[t]! + this.sEta[t]! / p[t]!);
        const dPhi = wrapPhi(phi - (this.axisPhi[t]! + this.sPhi[t]! / p[t]!));
        if (dEta * dEta + dPhi * dPhi < R2) {
          into = t;
          break;
        }
      }
      if (into < 0) {
        order[kept++] = j;
        continue;
      }
      // Re-express j's moments relative to the axis of `into` (shift s).
      const sEta = this.axisEta[j]! - this.axisEta[into]!;
      const sPhi = wrapPhi(this.axisPhi[j]! - this.axisPhi[into]!);
      const pj = p[j]!;
      this.q[into] = this.q[into]! + this.q[j]! + 2 * (sEta * this.sEta[j]! + sPhi * this.sPhi[j]!) + pj * (sEta * sEta + sPhi * sPhi);
      this.sEta[into] = this.sEta[into]! + this.sEta[j]! + pj * sEta;
      this.sPhi[into] = this.sPhi[into]! + this.sPhi[j]! + pj * sPhi;
      p[into] = p[into]! + pj;
      if (flavourRank(this.flavour[j]!) > flavourRank(this.flavour[into]!)) this.flavour[into] = this.flavour[j]!;
    }
    sortByDescending(order, kept, p);
    for (let k = 0; k < kept; k++) {
      const j = order[k]!;
      const pt = p[j]!;
      if (pt < JET_PT_MIN) break;
      const eta = this.axisEta[j]! + this.sEta[j]! / pt;
      const m2 = pt * this.q[j]! - this.sEta[j]! ** 2 - this.sPhi[j]! ** 2;
      const tagged = Math.abs(eta) < BTAG_ETA_MAX && rng.uniform() < tagProbability(this.flavour[j]!);
      const i = out.add();
      out.columns.PT[i] = pt;
      out.columns.Eta[i] = eta;
      out.columns.Phi[i] = wrapPhi(this.axisPhi[j]! + this.sPhi[j]! / pt);
      out.columns.Mass[i] = m2 > 0 ? Math.sqrt(m2) : 0;
      out.columns.BTag[i] = tagged ? 1 : 0;
    }
  }
}

/** Insertion sort of the first n indices by descending key (n ≤ 32). */
function sortByDescending(order: Int32Array, n: number, key: Float64Array): void {
  for (let i = 1; i < n; i++) {
    const v = order[i]!;
    const kv = key[v]!;
    let j = i - 1;
    while (j >= 0 && key[order[j]!]! < kv) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = v;
  }
}
