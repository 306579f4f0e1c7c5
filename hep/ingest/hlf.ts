/** The 14 high-level features (seed-pipeline.md §2.4). */
import type { DelphesEvent } from '../event.js';
import type { IngestMode } from './config.js';
import { hasDirection } from './kinematics.js';
import { COL, HLF } from './layout.js';
import { HLF_FEATURES } from '../layout.js';

/** Jets counted in HT and nJets: PT > 30 and |Eta| < 2.6, both strict. */
const JET_MIN_PT = 30;
const JET_MAX_ABS_ETA = 2.6;

/** `lepton` is the selected lepton's float64 row; MissingET absent gives MET = PhiMET = MT = 0. */
export function highLevelFeatures(ev: DelphesEvent, lepton: Float64Array, mode: IngestMode): Float64Array {
  const hlf = new Float64Array(HLF_FEATURES);
  const jet = ev.jet;
  let ht = 0;
  let nJets = 0;
  let nBJets = 0;
  for (let i = 0; i < jet.pt.length; i++) {
    const pt = jet.pt[i]!;
    const eta = jet.eta[i]!;
    if (!(pt > JET_MIN_PT && Math.abs(eta) < JET_MAX_ABS_ETA) || !hasDirection(eta, jet.phi[i]!)) continue;
    ht += pt;
    nJets++;
    if (jet.btag[i]! > 0) nBJets++;
  }
  const met = ev.met?.met ?? 0;
  const phiMet = ev.met?.phi ?? 0;
  const lepPt = lepton[COL.PT]!;
  const lepPhi = lepton[COL.PHI]!;
  // The seed stores m_T² under the name MT (§2.7 bug 3).
  const mtSquared = 2 * met * lepPt * (1 - Math.cos(lepPhi - phiMet));

  hlf[HLF.HT] = ht;
  hlf[HLF.MET] = met;
  hlf[HLF.PHI_MET] = phiMet;
  hlf[HLF.MT] = mode === 'faithful' ? mtSquared : Math.sqrt(mtSquared);
  hlf[HLF.N_JETS] = nJets;
  hlf[HLF.N_BJETS] = nBJets;
  hlf[HLF.LEP_PT] = lepPt;
  hlf[HLF.LEP_ETA] = lepton[COL.ETA]!;
  hlf[HLF.LEP_PHI] = lepPhi;
  hlf[HLF.LEP_ISO_CH] = lepton[COL.CH_ISO]!;
  hlf[HLF.LEP_ISO_GAMMA] = lepton[COL.GAMMA_ISO]!;
  hlf[HLF.LEP_ISO_NEU] = lepton[COL.NEU_ISO]!;
  hlf[HLF.LEP_CHARGE] = lepton[COL.CHARGE]!;
  hlf[HLF.LEP_IS_ELE] = lepton[COL.IS_ELE]!;
  return hlf;
}
