/**
 * Resonance decays shared by the W+jets and ttbar models: W → ℓν (with τ →
 * ℓνν), W → qq', W → τ_h ν, t → bW. Two-body decays are isotropic in the
 * parent's rest frame; τ decays are collinear (a τ from a W is highly boosted).
 */
import { P4, twoBodyDecay } from './kinematics.js';
import type { Rng } from '../../common/rng.js';
import { uniformIn } from './samplers.js';
import { ELECTRON, Flavour, MUON, type TruthEvent } from './truth.js';

export const W_MASS = 80.38;
export const W_WIDTH = 2.085;
export const TOP_MASS = 172.5;
export const TOP_WIDTH = 1.42;
const B_MASS = 4.8;

/** Scratch vectors: decays never nest deeper than top → W → leptons. */
const d1 = new P4();
const d2 = new P4();
const b = new P4();

/**
 * Among W → ℓν decays that give an electron or muon, the share that goes
 * through τ → ℓνν: BR(W→τν)·BR(τ→ℓνν) / (2·BR(W→ℓν) + that) ≈ 0.15.
 */
const TAU_SHARE = 0.15;

/** Visible fraction of a τ → ℓνν decay in the collinear limit: density ∝ 5 − 9x² + 4x³. */
function tauLeptonFraction(rng: Rng): number {
  for (;;) {
    const x = rng.uniform();
    if (5 * rng.uniform() < 5 - 9 * x * x + 4 * x * x * x) return x;
  }
}

/**
 * W → ℓν with ℓ = e or μ (directly or via τ); `charge` is the W's. Adds the
 * lepton and the neutrino(s) to `truth` and records the W daughters for the
 * first leptonic W. Returns the final lepton's index in truth.
 */
export function decayWToLepton(rng: Rng, w: P4, charge: number, truth: TruthEvent): number {
  twoBodyDecay(rng, w, 0, 0, d1, d2);
  const viaTau = rng.uniform() < TAU_SHARE;
  if (!truth.wPresent) {
    truth.wPresent = true;
    truth.wLeptonPt = d1.pt;
    truth.wLeptonPhi = d1.phi;
    truth.wNeutrinoPt = d2.pt;
    truth.wNeutrinoPhi = d2.phi;
  }
  const code = rng.uniform() < 0.5 ? ELECTRON : MUON;
  const visible = viaTau ? tauLeptonFraction(rng) : 1;
  const pt = d1.pt;
  const phi = d1.phi;
  truth.addNeutrino(d2.pt, d2.phi);
  if (viaTau) truth.addNeutrino((1 - visible) * pt, phi);
  truth.addLepton(visible * pt, d1.eta, phi, charge > 0 ? -code : code);
  return truth.nLeptons - 1;
}

/** W → q q̄': two quark partons, one of them a charm in half of the decays (W → cs). */
export function decayWToQuarks(rng: Rng, w: P4, truth: TruthEvent): void {
  twoBodyDecay(rng, w, 0, 0, d1, d2);
  const charm = rng.uniform() < 0.5;
  truth.addParton(d1.pt, d1.eta, d1.phi, charm ? Flavour.charm : Flavour.light);
  truth.addParton(d2.pt, d2.eta, d2.phi, Flavour.light);
}

/** W → τν, τ → hadrons + ν: a narrow τ jet (visible fraction uniform) and real missing ET. */
export function decayWToHadronicTau(rng: Rng, w: P4, truth: TruthEvent): void {
  twoBodyDecay(rng, w, 0, 0, d1, d2);
  const visible = uniformIn(rng, 0.1, 1);
  truth.addParton(visible * d1.pt, d1.eta, d1.phi, Flavour.tauHadronic);
  truth.addNeutrino((1 - visible) * d1.pt, d1.phi);
  truth.addNeutrino(d2.pt, d2.phi);
}

/** t → b W: adds the b parton, writes the W to `w`. */
export function decayTop(rng: Rng, top: P4, truth: TruthEvent, wMass: number, w: P4): void {
  twoBodyDecay(rng, top, B_MASS, wMass, b, w);
  truth.addParton(b.pt, b.eta, b.phi, Flavour.bottom);
}
