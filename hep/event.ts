/**
 * One Delphes event as stage 1 sees it: the branches it reads, columnar per
 * collection. Readers fill it (from jsroot, uproot-style or TClonesArray
 * files); the physics in hep/stage1 consumes it. Arrays may be typed arrays
 * or plain arrays; they are only valid during the callback that receives them.
 */
export interface LeptonColumns {
  pt: ArrayLike<number>;
  eta: ArrayLike<number>;
  phi: ArrayLike<number>;
  charge: ArrayLike<number>;
}

export interface DelphesEvent {
  electron: LeptonColumns;
  /** `MuonTight` in the CMS Delphes card. */
  muon: LeptonColumns;
  /** `EFlowTrack` */
  track: {
    pt: ArrayLike<number>;
    eta: ArrayLike<number>;
    phi: ArrayLike<number>;
    pid: ArrayLike<number>;
    charge: ArrayLike<number>;
    x: ArrayLike<number>;
    y: ArrayLike<number>;
    z: ArrayLike<number>;
  };
  /** `EFlowPhoton` */
  photon: { et: ArrayLike<number>; eta: ArrayLike<number>; phi: ArrayLike<number> };
  /** `EFlowNeutralHadron` */
  neutral: { et: ArrayLike<number>; eta: ArrayLike<number>; phi: ArrayLike<number> };
  /** Phi is read only to drop sentinel jets (non-finite Eta or Phi). */
  jet: { pt: ArrayLike<number>; eta: ArrayLike<number>; phi: ArrayLike<number>; btag: ArrayLike<number> };
  /** `MissingET[0]`; null when the collection is empty. */
  met: { met: number; phi: number } | null;
}

/** Branch names stage 1 reads, by the DelphesEvent field they fill. */
export const INGEST_BRANCHES = {
  electron: { size: 'Electron_size', pt: 'Electron.PT', eta: 'Electron.Eta', phi: 'Electron.Phi', charge: 'Electron.Charge' },
  muon: { size: 'MuonTight_size', pt: 'MuonTight.PT', eta: 'MuonTight.Eta', phi: 'MuonTight.Phi', charge: 'MuonTight.Charge' },
  track: { pt: 'EFlowTrack.PT', eta: 'EFlowTrack.Eta', phi: 'EFlowTrack.Phi', pid: 'EFlowTrack.PID', charge: 'EFlowTrack.Charge', x: 'EFlowTrack.X', y: 'EFlowTrack.Y', z: 'EFlowTrack.Z' },
  photon: { et: 'EFlowPhoton.ET', eta: 'EFlowPhoton.Eta', phi: 'EFlowPhoton.Phi' },
  neutral: { et: 'EFlowNeutralHadron.ET', eta: 'EFlowNeutralHadron.Eta', phi: 'EFlowNeutralHadron.Phi' },
  jet: { pt: 'Jet.PT', eta: 'Jet.Eta', phi: 'Jet.Phi', btag: 'Jet.BTag' },
  met: { met: 'MissingET.MET', phi: 'MissingET.Phi' },
} as const;
