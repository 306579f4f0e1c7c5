/**
 * The trigger-like event selection (seed-pipeline.md §2.2): one isolated
 * electron or muon above the pT cut, chosen per mode, and the rejection
 * reason otherwise.
 */
import type { DelphesEvent, LeptonColumns } from '../event.js';
import type { IngestConfig } from './config.js';
import type { IsolationMaps } from './isolation.js';
import { hasDirection, vectorEta, vectorPhi, vectorPt, writeMasslessVector } from './kinematics.js';
import { COL } from './layout.js';
import { PARTICLE_FEATURES } from '../layout.js';

/** Why an event is not selected; checked in this order, so each event gets exactly one. */
export type RejectReason = 'no_lepton' | 'empty_maps' | 'lepton_below_pt' | 'not_isolated';

/** The chosen lepton of the last selected event. */
export class SelectedLepton {
  /** Its particle row (§2.2) in float64: the vector's E, Px, Py, Pz, Pt, Eta, Phi, then vtx 0, the isolations, the one-hot and Charge. */
  readonly row = new Float64Array(PARTICLE_FEATURES);
  /** Its branch Eta and Phi, which locate its own track in the track list. */
  eta = 0;
  phi = 0;
}

/** A flavour's best isolated lepton so far; index −1 while there is none. */
class Candidate {
  index = -1;
  pt = 0;
  eta = 0;
  phi = 0;
  chIso = 0;
  gammaIso = 0;
  neuIso = 0;
}

export class EventSelector {
  /** Valid after select() returned null; overwritten by the next event. */
  readonly lepton = new SelectedLepton();
  private readonly electron = new Candidate();
  private readonly muon = new Candidate();
  private readonly faithful: boolean;

  constructor(
    private readonly cfg: IngestConfig,
    private readonly maps: IsolationMaps,
  ) {
    this.faithful = cfg.mode === 'faithful';
  }

  /** Fills the maps with the event and selects its lepton; null when selected, else the (first) reason to reject. */
  select(ev: DelphesEvent): RejectReason | null {
    // Branch sizes, before the sentinel filter: the seed tests Electron_size and MuonTight_size.
    if (ev.electron.pt.length === 0 && ev.muon.pt.length === 0) return 'no_lepton';
    this.maps.fill(ev);
    if (this.faithful && this.maps.anyEmpty()) return 'empty_maps';
    if (!this.anyAbovePt(ev.electron) && !this.anyAbovePt(ev.muon)) return 'lepton_below_pt';
    this.maps.index();
    this.findIsolated(ev.electron, this.electron);
    this.findIsolated(ev.muon, this.muon);
    const ele = this.electron;
    const mu = this.muon;
    if (ele.index < 0 && mu.index < 0) return 'not_isolated';
    const useElectron = ele.index >= 0 && (mu.index < 0 || this.electronWins(ele, mu));
    this.writeLepton(useElectron ? ev.electron : ev.muon, useElectron ? ele : mu, useElectron);
    return null;
  }

  private anyAbovePt(leptons: LeptonColumns): boolean {
    for (let i = 0; i < leptons.pt.length; i++) {
      if (leptons.pt[i]! > this.cfg.ptCut && hasDirection(leptons.eta[i]!, leptons.phi[i]!)) return true;
    }
    return false;
  }

  /**
   * The flavour's lepton above the pT cut with ChIso + NeuIso + GammaIso below
   * the iso cut: faithful, the first in branch order; fixed, the highest pT
   * (the first of equals).
   */
  private findIsolated(leptons: LeptonColumns, best: Candidate): void {
    best.index = -1;
    for (let i = 0; i < leptons.pt.length; i++) {
      const pt = leptons.pt[i]!;
      const eta = leptons.eta[i]!;
      const phi = leptons.phi[i]!;
      if (!(pt > this.cfg.ptCut) || !hasDirection(eta, phi)) continue;
      if (best.index >= 0) {
        if (this.faithful) return;
        if (pt <= best.pt) continue; // cannot win, so its isolation is not needed
      }
      this.maps.isolate(pt, eta, phi);
      const chIso = this.maps.iso[0]!;
      const gammaIso = this.maps.iso[1]!;
      const neuIso = this.maps.iso[2]!;
      // The seed's sum order.
      if (chIso + neuIso + gammaIso < this.cfg.isoCut) {
        best.index = i;
        best.pt = pt;
        best.eta = eta;
        best.phi = phi;
        best.chIso = chIso;
        best.gammaIso = gammaIso;
        best.neuIso = neuIso;
      }
    }
  }

  /**
   * Both flavours found: faithful compares Eta (the seed's foundEle[5] >
   * foundMuon[5]), fixed compares pT with ties to the electron. Branch values
   * are compared, so exact ties do not hang on the vector's float rounding.
   */
  private electronWins(ele: Candidate, mu: Candidate): boolean {
    return this.faithful ? ele.eta > mu.eta : ele.pt >= mu.pt;
  }

  private writeLepton(leptons: LeptonColumns, chosen: Candidate, isElectron: boolean): void {
    const row = this.lepton.row;
    writeMasslessVector(row, COL.E, chosen.pt, chosen.eta, chosen.phi);
    row[COL.PT] = vectorPt(row[COL.PX]!, row[COL.PY]!);
    row[COL.ETA] = vectorEta(row[COL.PX]!, row[COL.PY]!, row[COL.PZ]!);
    row[COL.PHI] = vectorPhi(row[COL.PX]!, row[COL.PY]!);
    row[COL.CH_ISO] = chosen.chIso;
    row[COL.GAMMA_ISO] = chosen.gammaIso;
    row[COL.NEU_ISO] = chosen.neuIso;
    row[COL.IS_ELE] = isElectron ? 1 : 0;
    row[COL.IS_MU] = isElectron ? 0 : 1;
    row[COL.CHARGE] = leptons.charge[chosen.index]!;
    this.lepton.eta = chosen.eta;
    this.lepton.phi = chosen.phi;
  }
}
