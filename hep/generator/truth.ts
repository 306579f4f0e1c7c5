/**
 * The generator-level ("truth") content of one event, as a sample model
 * produces it: partons that will become jets, prompt leptons, neutrinos.
 * The detector model (detector.ts) turns it into Delphes collections.
 * Reused from event to event: `reset()` instead of allocation.
 */

/** Parton kinds the fragmentation model distinguishes (the values are PDG-like). */
export const Flavour = { gluon: 21, light: 1, charm: 4, bottom: 5, tauHadronic: 15 } as const;
export type Flavour = (typeof Flavour)[keyof typeof Flavour];

/** Delphes/PDG codes: negative code = positive charge for leptons. */
export const ELECTRON = 11;
export const MUON = 13;

const MAX_PARTONS = 32;
const MAX_LEPTONS = 4;

export class TruthEvent {
  nPartons = 0;
  readonly partonPt = new Float64Array(MAX_PARTONS);
  readonly partonEta = new Float64Array(MAX_PARTONS);
  readonly partonPhi = new Float64Array(MAX_PARTONS);
  readonly partonFlavour = new Int32Array(MAX_PARTONS);
  /**
   * A lepton forced inside this parton's jet (QCD with a lepton filter):
   * signed PDG code (0 = none), and the fractions of the parton pT carried by
   * the lepton and by its neutrino (0 for fakes).
   */
  readonly partonLepton = new Int32Array(MAX_PARTONS);
  readonly partonLeptonZ = new Float64Array(MAX_PARTONS);
  readonly partonNeutrinoZ = new Float64Array(MAX_PARTONS);

  nLeptons = 0;
  readonly leptonPt = new Float64Array(MAX_LEPTONS);
  readonly leptonEta = new Float64Array(MAX_LEPTONS);
  readonly leptonPhi = new Float64Array(MAX_LEPTONS);
  /** Signed PDG code: 11 = e-, -11 = e+, 13 = mu-, -13 = mu+. */
  readonly leptonPid = new Int32Array(MAX_LEPTONS);

  /** Sum of the neutrinos' transverse momenta (the real missing ET). */
  nuPx = 0;
  nuPy = 0;

  /**
   * The first leptonic W's direct daughters (the tau itself for W → τν), or
   * wPresent = false: lets tests check the transverse-mass Jacobian peak.
   */
  wPresent = false;
  wLeptonPt = 0;
  wLeptonPhi = 0;
  wNeutrinoPt = 0;
  wNeutrinoPhi = 0;

  reset(): void {
    this.nPartons = 0;
    this.nLeptons = 0;
    this.nuPx = 0;
    this.nuPy = 0;
    this.wPresent = false;
  }

  addParton(pt: number, eta: number, phi: number, flavour: Flavour): number {
    const i = this.nPartons;
    if (i === MAX_PARTONS) return -1;
    this.nPartons++;
    this.partonPt[i] = pt;
    this.partonEta[i] = eta;
    this.partonPhi[i] = phi;
    this.partonFlavour[i] = flavour;
    this.partonLepton[i] = 0;
    this.partonLeptonZ[i] = 0;
    this.partonNeutrinoZ[i] = 0;
    return i;
  }

  addLepton(pt: number, eta: number, phi: number, pid: number): void {
    const i = this.nLeptons;
    if (i === MAX_LEPTONS) return;
    this.nLeptons++;
    this.leptonPt[i] = pt;
    this.leptonEta[i] = eta;
    this.leptonPhi[i] = phi;
    this.leptonPid[i] = pid;
  }

  addNeutrino(pt: number, phi: number): void {
    this.nuPx += pt * Math.cos(phi);
    this.nuPy += pt * Math.sin(phi);
  }

  /** True transverse mass of the W daughters (√ form; stage 1's MT is its square). */
  wTransverseMass(): number {
    return Math.sqrt(2 * this.wLeptonPt * this.wNeutrinoPt * (1 - Math.cos(this.wLeptonPhi - this.wNeutrinoPhi)));
  }
}
