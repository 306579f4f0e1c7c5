/**
 * Hadronisation of one parton into particles around its axis, written to a
 * ParticleBuffer (directions relative to the axis). A deliberately simple
 * independent-fragmentation picture with the features a particle-level
 * classifier can use and the 14 event-level features cannot:
 *  - multiplicity grows with ln pT, gluons make ~1.5× more and wider, softer
 *    particles than quarks (jet substructure);
 *  - particles are collimated: angle ≈ kT / pT plus a perturbative spread;
 *  - b and c hadrons carry most of the jet momentum and decay at a vertex
 *    displaced by an exponential flight length βγcτ (a few mm for B, with
 *    a D cascade), sometimes semileptonically (a non-isolated lepton and a
 *    neutrino inside the jet);
 *  - light jets contain occasional K0S/Λ decays, displaced by centimetres.
 */
import type { Rng } from '../../common/rng.js';
import { clamp, exponential, poisson } from './samplers.js';
import { CHARGED, LEPTON, NEUTRAL_HADRON, PHOTON, type ParticleBuffer } from './particles.js';

/**
 * Particle species by a uniform draw u: charged hadrons below `charged`,
 * photons below `photon`, neutral hadrons above (60 / 27 / 13 %).
 */
export const SPECIES = { charged: 0.6, photon: 0.87 } as const;

export interface Vertex {
  x: number;
  y: number;
  z: number;
}

/** Where a parton points: the flight direction of the hadrons it makes. */
export interface Axis {
  eta: number;
  phi: number;
}

interface ShowerStyle {
  /** Mean multiplicity = multiplicity · ln(1 + pT / 3 GeV). */
  multiplicity: number;
  /** Momentum sharing: weights are E² (hard: quarks) or E^1.5 (softer: gluons), E ~ Exp(1). */
  hard: boolean;
  /** Typical transverse momentum (GeV) of a particle relative to the axis. */
  kt: number;
  /** Perturbative broadening: angle spread / √(pT / GeV). */
  spread: number;
}

export const QUARK_SHOWER: ShowerStyle = { multiplicity: 3.6, hard: true, kt: 0.32, spread: 0.22 };
export const GLUON_SHOWER: ShowerStyle = { multiplicity: 5.6, hard: false, kt: 0.45, spread: 0.42 };

const MAX_ANGLE = 0.32;
const TRACK_PT_MIN = 0.3;

/** K0S (and Λ) decays in flight: share of charged hadrons, cτ, and the tracker radius that still reconstructs them. */
const V0_SHARE = 0.05;
const V0_CTAU = 26.8;
const V0_MASS = 0.498;
const TRACKER_RADIUS = 300;

const weights = new Float64Array(1024);

/** PDG code of a charged hadron: π 84 %, K 11 %, p 5 %; the lowest bit of the draw picks the charge. */
export function chargedHadronPid(rng: Rng): number {
  const r = rng.u32();
  const u = (r >>> 1) / 2147483648;
  const code = u < 0.84 ? 211 : u < 0.95 ? 321 : 2212;
  return r & 1 ? code : -code;
}

/** `out` = `from` moved by `length` mm along the axis direction. */
function flight(axis: Axis, length: number, from: Vertex, out: Vertex): void {
  const coshEta = Math.cosh(axis.eta);
  const t = length / coshEta;
  out.x = from.x + t * Math.cos(axis.phi);
  out.y = from.y + t * Math.sin(axis.phi);
  out.z = from.z + length * Math.tanh(axis.eta);
}

const v0Vertex: Vertex = { x: 0, y: 0, z: 0 };

/** Light hadrons sharing `total` GeV of pT around `axis`, from vertex `pv`. */
export function shower(rng: Rng, out: ParticleBuffer, total: number, style: ShowerStyle, axis: Axis, pv: Vertex): void {
  if (total < TRACK_PT_MIN) return;
  const n = Math.min(weights.length, 1 + poisson(rng, style.multiplicity * Math.log(1 + total / 3)));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = rng.exponential();
    const w = style.hard ? e * e : e * Math.sqrt(e);
    weights[i] = w;
    sum += w;
  }
  const spread = style.spread / Math.sqrt(total);
  const coshEta = Math.cosh(axis.eta);
  for (let i = 0; i < n; i++) {
    const pt = (weights[i]! / sum) * total;
    const theta = Math.min(MAX_ANGLE, style.kt / (pt + 0.3) + spread);
    const dEta = theta * rng.normal();
    const dPhi = theta * rng.normal();
    const u = rng.uniform();
    if (u < SPECIES.charged) {
      if (pt < TRACK_PT_MIN) continue;
      if (u < SPECIES.charged * V0_SHARE) {
        const length = exponential(rng, ((pt * coshEta) / V0_MASS) * V0_CTAU);
        if (length / coshEta > TRACKER_RADIUS) continue;
        flight(axis, length, pv, v0Vertex);
        out.add(CHARGED, chargedHadronPid(rng), pt, dEta, dPhi, v0Vertex.x, v0Vertex.y, v0Vertex.z);
      } else {
        out.add(CHARGED, chargedHadronPid(rng), pt, dEta, dPhi, pv.x, pv.y, pv.z);
      }
    } else {
      out.add(u < SPECIES.photon ? PHOTON : NEUTRAL_HADRON, u < SPECIES.photon ? 22 : 130, pt, dEta, dPhi, pv.x, pv.y, pv.z);
    }
  }
}

export interface HeavyHadron {
  mass: number;
  /** mm */
  ctau: number;
  /** Mean numbers of decay products besides a lepton: charged, photons, neutral hadrons. */
  charged: number;
  photons: number;
  neutrals: number;
  /** Momentum (GeV) of the products in the hadron frame: sets their opening angle. */
  opening: number;
  /** Share of charged products made at a second (charm) vertex. */
  cascade: number;
  /** Mean fraction of the parton pT carried by the hadron, and its spread. */
  zMean: number;
  zSigma: number;
}

export const B_HADRON: HeavyHadron = { mass: 5.28, ctau: 0.455, charged: 4.6, photons: 1.6, neutrals: 0.3, opening: 1.3, cascade: 0.5, zMean: 0.72, zSigma: 0.1 };
export const D_HADRON: HeavyHadron = { mass: 1.87, ctau: 0.2, charged: 2.2, photons: 0.9, neutrals: 0.2, opening: 0.7, cascade: 0, zMean: 0.56, zSigma: 0.12 };

/** A semileptonic decay: the lepton's signed PDG code and the pT shares of lepton and neutrino. */
export interface Semileptonic {
  pid: number;
  leptonPt: number;
  neutrinoPt: number;
}

const bVertex: Vertex = { x: 0, y: 0, z: 0 };
const dVertex: Vertex = { x: 0, y: 0, z: 0 };

/**
 * A b or c hadron of transverse momentum `pt` flying along `axis`, decaying
 * at a displaced vertex; with `lepton`, semileptonically (the neutrino's
 * share leaves the detector: the caller adds it to the missing ET).
 */
export function decayHeavyHadron(rng: Rng, out: ParticleBuffer, pt: number, spec: HeavyHadron, axis: Axis, pv: Vertex, lepton: Semileptonic | null): void {
  const coshEta = Math.cosh(axis.eta);
  const betaGamma = (pt * coshEta) / spec.mass;
  flight(axis, exponential(rng, betaGamma * spec.ctau), pv, bVertex);
  // The charm hadron of a b decay takes about half of its momentum.
  if (spec.cascade > 0) flight(axis, exponential(rng, ((0.5 * pt * coshEta) / D_HADRON.mass) * D_HADRON.ctau), bVertex, dVertex);

  let hadronic = pt;
  if (lepton) {
    hadronic -= lepton.leptonPt + lepton.neutrinoPt;
    const theta = (0.8 * spec.opening) / lepton.leptonPt;
    out.add(LEPTON, lepton.pid, lepton.leptonPt, theta * rng.normal(), theta * rng.normal(), bVertex.x, bVertex.y, bVertex.z);
  }
  if (hadronic <= TRACK_PT_MIN) return;
  const nCharged = 1 + poisson(rng, spec.charged - 1);
  const nPhotons = poisson(rng, spec.photons);
  const n = Math.min(weights.length, nCharged + nPhotons + poisson(rng, spec.neutrals));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.exponential();
    weights[i] = w;
    sum += w;
  }
  for (let i = 0; i < n; i++) {
    const p = (weights[i]! / sum) * hadronic;
    const theta = Math.min(MAX_ANGLE, spec.opening / (p + 0.5));
    const dEta = theta * rng.normal();
    const dPhi = theta * rng.normal();
    if (i < nCharged) {
      if (p < TRACK_PT_MIN) continue;
      const v = rng.uniform() < spec.cascade ? dVertex : bVertex;
      out.add(CHARGED, chargedHadronPid(rng), p, dEta, dPhi, v.x, v.y, v.z);
    } else {
      const photon = i < nCharged + nPhotons;
      out.add(photon ? PHOTON : NEUTRAL_HADRON, photon ? 22 : 130, p, dEta, dPhi, bVertex.x, bVertex.y, bVertex.z);
    }
  }
}

/** Fraction of a heavy-flavour jet carried by its b/c hadron (Peterson-like, as a clamped Gaussian). */
export function heavyHadronShare(rng: Rng, spec: HeavyHadron): number {
  return clamp(spec.zMean + spec.zSigma * rng.normal(), 0.25, 0.97);
}

const TAU_MASS = 1.777;
const TAU_CTAU = 0.087;
const tauVertex: Vertex = { x: 0, y: 0, z: 0 };

/** Visible τ decay products (1 or 3 charged pions plus π0 photons): a narrow, slightly displaced jet. */
export function decayHadronicTau(rng: Rng, out: ParticleBuffer, pt: number, axis: Axis, pv: Vertex): void {
  flight(axis, exponential(rng, ((pt * Math.cosh(axis.eta)) / TAU_MASS) * TAU_CTAU), pv, tauVertex);
  const nCharged = rng.uniform() < 0.72 ? 1 : 3;
  const nPhotons = 2 * poisson(rng, 0.6);
  const n = nCharged + nPhotons;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.exponential();
    weights[i] = w;
    sum += w;
  }
  const sign = rng.uniform() < 0.5 ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const p = (weights[i]! / sum) * pt;
    const theta = Math.min(0.15, 0.6 / (p + 1));
    const dEta = theta * rng.normal();
    const dPhi = theta * rng.normal();
    if (i < nCharged) {
      if (p < TRACK_PT_MIN) continue;
      // 1-prong: the τ charge; 3-prong: charges +,+,- (times the τ sign).
      out.add(CHARGED, (i === 2 ? -sign : sign) * 211, p, dEta, dPhi, tauVertex.x, tauVertex.y, tauVertex.z);
    } else {
      out.add(PHOTON, 22, p, dEta, dPhi, tauVertex.x, tauVertex.y, tauVertex.z);
    }
  }
}
