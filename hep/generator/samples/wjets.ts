/**
 * W(→ℓν)+jets. Jets: multiplicity falling geometrically (Berends scaling),
 * power-law pT above 20 GeV, mostly light quarks for the first jet and gluons
 * after it, with W+c (10 %) and W+bb̄ (2.5 %). The W recoils against the jets
 * (plus a soft intrinsic kT), has a Breit–Wigner mass (80.38, Γ 2.085),
 * a broad rapidity, and is W+ 58 % of the time (the LHC charge asymmetry).
 * Its decay (decays.ts) gives the Jacobian peak of the transverse mass.
 */
import { decayWToLepton, W_MASS, W_WIDTH } from '../decays.js';
import { P4 } from '../kinematics.js';
import type { Rng } from '../../../common/rng.js';
import { breitWigner, gaussian, geometric, powerLaw, uniformIn } from '../samplers.js';
import { Flavour, type TruthEvent } from '../truth.js';
import { passesLeptonFilter, type SampleModel } from './model.js';

const WJETS = {
  /** P(n jets) ∝ ratio^n */
  jetRatio: 0.5,
  maxJets: 6,
  jetPtMin: 20,
  jetPtIndex: 3.2,
  jetEtaSigma: 1.7,
  charm: 0.1,
  bbbar: 0.025,
  recoilSigma: 6,
  rapiditySigma: 2.0,
  plusShare: 0.58,
};

const w = new P4();

function generate(rng: Rng, truth: TruthEvent): void {
  do {
    truth.reset();
    const n = Math.min(WJETS.maxJets, geometric(rng, WJETS.jetRatio));
    let sx = 0;
    let sy = 0;
    for (let j = 0; j < n; j++) {
      const pt = powerLaw(rng, WJETS.jetPtMin, WJETS.jetPtIndex);
      const phi = uniformIn(rng, -Math.PI, Math.PI);
      const quarkShare = j === 0 ? 0.7 : 0.4;
      truth.addParton(pt, gaussian(rng, 0, WJETS.jetEtaSigma), phi, rng.uniform() < quarkShare ? Flavour.light : Flavour.gluon);
      sx += pt * Math.cos(phi);
      sy += pt * Math.sin(phi);
    }
    const u = rng.uniform();
    if (n > 0 && u < WJETS.charm) truth.partonFlavour[0] = Flavour.charm;
    else if (n > 0 && u < WJETS.charm + WJETS.bbbar) {
      truth.partonFlavour[0] = Flavour.bottom;
      const pt = powerLaw(rng, WJETS.jetPtMin, WJETS.jetPtIndex);
      const phi = uniformIn(rng, -Math.PI, Math.PI);
      truth.addParton(pt, gaussian(rng, 0, WJETS.jetEtaSigma), phi, Flavour.bottom);
      sx += pt * Math.cos(phi);
      sy += pt * Math.sin(phi);
    }
    const px = -sx + WJETS.recoilSigma * rng.normal();
    const py = -sy + WJETS.recoilSigma * rng.normal();
    w.setPtYPhiM(Math.hypot(px, py), WJETS.rapiditySigma * rng.normal(), Math.atan2(py, px), breitWigner(rng, W_MASS, W_WIDTH, 50, 130));
    decayWToLepton(rng, w, rng.uniform() < WJETS.plusShare ? 1 : -1, truth);
  } while (!passesLeptonFilter(truth));
}

export const wjets: SampleModel = { name: 'wjets', label: 2, generate };
