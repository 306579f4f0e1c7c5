/**
 * tt̄ with at least one electron or muon. Top pT ~ Gamma(2, 55 GeV), the tt̄
 * pair balancing initial-state radiation jets; Breit–Wigner top (172.5,
 * Γ 1.42) and W masses; t → bW, then W → ℓν (with τ → ℓνν) or qq' (charm in
 * half of them) or τ_h ν. Lepton+jets 84 %, dilepton 16 % (their shares
 * after the lepton filter). Each step is an isotropic two-body decay boosted
 * to the lab, so b-jets, W jets and the lepton have the right correlations
 * (and the lepton sometimes lands near a b-jet: less isolated).
 */
import { decayTop, decayWToHadronicTau, decayWToLepton, decayWToQuarks, TOP_MASS, TOP_WIDTH, W_MASS, W_WIDTH } from '../decays.js';
import { P4 } from '../kinematics.js';
import type { Rng } from '../../../common/rng.js';
import { breitWigner, gamma2, gaussian, geometric, powerLaw, uniformIn } from '../samplers.js';
import { Flavour, type TruthEvent } from '../truth.js';
import { passesLeptonFilter, type SampleModel } from './model.js';

const TTBAR = {
  topPtScale: 55,
  topRapiditySigma: 1.0,
  isrRatio: 0.55,
  isrPtMin: 20,
  isrPtIndex: 3.0,
  isrEtaSigma: 2.0,
  recoilSigma: 5,
  dilepton: 0.16,
  hadronicTau: 0.1,
};

const top = new P4();
const antitop = new P4();
const w = new P4();

function generate(rng: Rng, truth: TruthEvent): void {
  do {
    truth.reset();
    let sx = 0;
    let sy = 0;
    const nIsr = Math.min(4, geometric(rng, TTBAR.isrRatio));
    for (let j = 0; j < nIsr; j++) {
      const pt = powerLaw(rng, TTBAR.isrPtMin, TTBAR.isrPtIndex);
      const phi = uniformIn(rng, -Math.PI, Math.PI);
      truth.addParton(pt, gaussian(rng, 0, TTBAR.isrEtaSigma), phi, rng.uniform() < 0.75 ? Flavour.gluon : Flavour.light);
      sx += pt * Math.cos(phi);
      sy += pt * Math.sin(phi);
    }
    const pt1 = gamma2(rng, TTBAR.topPtScale);
    const phi1 = uniformIn(rng, -Math.PI, Math.PI);
    const px2 = -sx - pt1 * Math.cos(phi1) + TTBAR.recoilSigma * rng.normal();
    const py2 = -sy - pt1 * Math.sin(phi1) + TTBAR.recoilSigma * rng.normal();
    top.setPtYPhiM(pt1, TTBAR.topRapiditySigma * rng.normal(), phi1, breitWigner(rng, TOP_MASS, TOP_WIDTH, 150, 195));
    antitop.setPtYPhiM(Math.hypot(px2, py2), TTBAR.topRapiditySigma * rng.normal(), Math.atan2(py2, px2), breitWigner(rng, TOP_MASS, TOP_WIDTH, 150, 195));

    const dilepton = rng.uniform() < TTBAR.dilepton;
    const leptonicTop = rng.uniform() < 0.5 ? 0 : 1;
    for (let t = 0; t < 2; t++) {
      decayTop(rng, t === 0 ? top : antitop, truth, breitWigner(rng, W_MASS, W_WIDTH, 60, 100), w);
      if (dilepton || t === leptonicTop) decayWToLepton(rng, w, t === 0 ? 1 : -1, truth);
      else if (rng.uniform() < TTBAR.hadronicTau) decayWToHadronicTau(rng, w, truth);
      else decayWToQuarks(rng, w, truth);
    }
  } while (!passesLeptonFilter(truth));
}

export const ttbar: SampleModel = { name: 'ttbar', label: 1, generate };
