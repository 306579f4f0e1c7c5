/**
 * QCD multijet with a lepton filter. The lepton comes from inside a jet:
 * a semileptonic b (55 %) or c (25 %) hadron decay, or a light-jet hadron
 * taken for a lepton (20 %: fake electrons, decays in flight). Generating
 * the lepton pT first (power law above 20 GeV) and its share f of the jet
 * pT second is the lepton filter's trigger bias made explicit: with a
 * steeply falling jet spectrum the filter prefers a large f, so f is drawn
 * from a Beta-like shape leaning to high values. A large f means few other
 * particles near the lepton: the isolated tail that passes stage 1. The
 * neutrino of the decay is collinear with the lepton (small transverse
 * mass). A recoiling jet (b or c again for flavour pair production) and
 * extra gluon-rich jets complete the event.
 */
import { wrapPhi } from '../kinematics.js';
import type { Rng } from '../../../common/rng.js';
import { gaussian, geometric, kumaraswamy, pickCumulative, powerLaw, uniformIn } from '../samplers.js';
import { ELECTRON, Flavour, MUON, type TruthEvent } from '../truth.js';
import type { SampleModel } from './model.js';

const QCD = {
  /** Cumulative shares of the lepton source: b, c, light (fake / in flight). */
  source: [0.55, 0.8, 1] as const,
  leptonPtMin: 20,
  leptonPtIndex: 4.5,
  /** Kumaraswamy shape of the lepton's share of a heavy-flavour jet. */
  shareA: 2.0,
  shareB: 3.0,
  /** Range of the leading-hadron share in light jets that fake a lepton. */
  fakeShare: [0.3, 0.97] as const,
  jetEtaSigma: 1.4,
  extraRatio: 0.45,
  extraPtMin: 20,
  extraPtIndex: 3.3,
  extraEtaSigma: 1.8,
  /** Recoil pT imbalance (relative) and azimuthal decorrelation (rad). */
  imbalance: 0.15,
  acoplanarity: 0.25,
};

const SOURCES = [Flavour.bottom, Flavour.charm, Flavour.light] as const;

function generate(rng: Rng, truth: TruthEvent): void {
  truth.reset();
  const flavour = SOURCES[pickCumulative(rng, QCD.source)]!;
  const leptonPt = powerLaw(rng, QCD.leptonPtMin, QCD.leptonPtIndex);
  let eta: number;
  do eta = gaussian(rng, 0, QCD.jetEtaSigma);
  while (Math.abs(eta) > 2.4);
  const phi = uniformIn(rng, -Math.PI, Math.PI);
  const sign = rng.uniform() < 0.5 ? 1 : -1;

  let share: number;
  let neutrinoShare = 0;
  let pid: number;
  if (flavour === Flavour.light) {
    share = uniformIn(rng, QCD.fakeShare[0], QCD.fakeShare[1]);
    pid = sign * (rng.uniform() < 0.7 ? ELECTRON : MUON);
  } else {
    share = Math.min(0.9, kumaraswamy(rng, QCD.shareA, QCD.shareB));
    neutrinoShare = Math.min(0.95 - share, share * uniformIn(rng, 0.2, 0.9));
    pid = sign * (rng.uniform() < 0.5 ? ELECTRON : MUON);
  }
  const jetPt = leptonPt / share;
  const source = truth.addParton(jetPt, eta, phi, flavour);
  truth.partonLepton[source] = pid;
  truth.partonLeptonZ[source] = share;
  truth.partonNeutrinoZ[source] = neutrinoShare;

  let sx = jetPt * Math.cos(phi);
  let sy = jetPt * Math.sin(phi);
  const nExtra = Math.min(5, geometric(rng, QCD.extraRatio));
  for (let j = 0; j < nExtra; j++) {
    const pt = powerLaw(rng, QCD.extraPtMin, QCD.extraPtIndex);
    const p = uniformIn(rng, -Math.PI, Math.PI);
    const u = rng.uniform();
    truth.addParton(pt, gaussian(rng, 0, QCD.extraEtaSigma), p, u < 0.03 ? Flavour.bottom : u < 0.25 ? Flavour.light : Flavour.gluon);
    sx += pt * Math.cos(p);
    sy += pt * Math.sin(p);
  }
  // The recoiling parton balances the rest, up to the imbalance and acoplanarity.
  const recoilPt = Math.hypot(sx, sy) * Math.max(0.2, 1 + QCD.imbalance * rng.normal());
  const recoilPhi = wrapPhi(Math.atan2(-sy, -sx) + QCD.acoplanarity * rng.normal());
  const u = rng.uniform();
  const recoilFlavour =
    flavour === Flavour.bottom ? (u < 0.6 ? Flavour.bottom : Flavour.gluon) : flavour === Flavour.charm ? (u < 0.5 ? Flavour.charm : Flavour.gluon) : u < 0.6 ? Flavour.gluon : Flavour.light;
  truth.addParton(recoilPt, gaussian(rng, 0, QCD.jetEtaSigma), recoilPhi, recoilFlavour);
}

export const qcd: SampleModel = { name: 'qcd', label: 0, generate };
