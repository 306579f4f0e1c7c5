/** What a sample model is: a name, the seed pipeline's label, and a truth-level event generator. */
import type { Rng } from '../../../common/rng.js';
import type { TruthEvent } from '../truth.js';

export type SampleName = 'qcd' | 'ttbar' | 'wjets';

export interface SampleModel {
  name: SampleName;
  /** Class label as in the seed pipeline: 0 = QCD, 1 = tt̄, 2 = W+jets. */
  label: number;
  /** Fills `truth` (reset first) with one event that passes the generator-level lepton filter. */
  generate(rng: Rng, truth: TruthEvent): void;
}

/** Generator-level lepton filter: an electron or muon with pT > 20 GeV inside the tracker. */
export function passesLeptonFilter(truth: TruthEvent): boolean {
  for (let i = 0; i < truth.nLeptons; i++) {
    if (truth.leptonPt[i]! > 20 && Math.abs(truth.leptonEta[i]!) < 2.5) return true;
  }
  return false;
}
