/**
 * From truth to Delphes collections: primary vertex, lepton identification,
 * fragmentation of every parton with a per-jet calorimeter response,
 * underlying event and pile-up, calorimeter towers, jets and missing ET.
 *
 * Missing ET is Delphes' definition: −Σ of the visible EFlow objects
 * (tracks, photon and neutral-hadron towers). So it holds the neutrinos, what
 * the calorimeter mismeasured in jets (response fluctuations, a rare badly
 * measured tail), and what falls outside the acceptance or below the
 * thresholds: the same information the particle lists carry. Soft recoil
 * particles balance the hard process's transverse momentum first, so that a
 * parametrised truth that does not balance exactly adds no fake MET. Only
 * particles inside the detector are kept:
 * tracks |η| < 2.5 (charged particles beyond leave calorimeter deposits),
 * towers |η| < 3.
 */
import { CALO_ETA_MAX, TowerGrid } from './calorimeter.js';
import {
  B_HADRON,
  D_HADRON,
  GLUON_SHOWER,
  QUARK_SHOWER,
  SPECIES,
  chargedHadronPid,
  decayHadronicTau,
  decayHeavyHadron,
  heavyHadronShare,
  shower,
  type Axis,
  type Semileptonic,
  type Vertex,
} from './fragmentation.js';
import { JetBuilder } from './jets.js';
import { wrapPhi } from './kinematics.js';
import { CHARGED, FAKE_ELECTRON, LEPTON, NEUTRAL_HADRON, PHOTON, ParticleBuffer } from './particles.js';
import type { EventRecord } from './record.js';
import type { Rng } from '../../common/rng.js';
import { clamp, exponential, poisson, uniformIn } from './samplers.js';
import { ELECTRON, Flavour, MUON, type TruthEvent } from './truth.js';

const TRACKER_ETA = 2.5;
const MUON_ETA = 2.4;
const LEPTON_PT_MIN = 10;
const TRACK_PT_MIN = 0.3;

/** Luminous region: transverse 15 µm, longitudinal 40 mm; collision time spread 0.16 ns. */
const BEAM_XY = 0.015;
const BEAM_Z = 40;
const BEAM_T = 0.16e-9;

/** Share of jets whose calorimeter response is far too low (the fake-MET tail of QCD). */
const BADLY_MEASURED = 0.03;
/** Recoil: mean pT per soft particle (GeV), spread in φ around the recoil direction and in η. */
const RECOIL = { meanPt: 2.5, phiSpread: 0.7, etaSpread: 2.0 };

/** Semileptonic b/c decays to e or μ (direct + cascade), per heavy-flavour jet. */
const B_SEMILEPTONIC = 0.2;
const C_SEMILEPTONIC = 0.15;

/** Mean number of pile-up vertices by default: keeps events at ~80–115 EFlow objects (the write-speed budget). */
export const DEFAULT_PILEUP = 8;

/** Soft particles per event: underlying event from the primary vertex, and per pile-up vertex. */
const SOFT = {
  ueCharged: 18,
  uePhotons: 14,
  ueNeutrals: 5,
  ueMeanPt: 0.55,
  perVertexCharged: 2.6,
  perVertexPhotons: 2.2,
  perVertexNeutrals: 0.8,
  pileupMeanPt: 0.45,
};

/** Signed-PDG charge: leptons are negative for positive codes, hadrons positive. */
function chargeOf(pid: number): number {
  const a = pid < 0 ? -pid : pid;
  const sign = pid < 0 ? -1 : 1;
  return a === 11 || a === 13 ? -sign : sign;
}

export class Detector {
  private readonly ecal = new TowerGrid(0.0174, 0.5);
  private readonly hcal = new TowerGrid(0.087, 1.0);
  private readonly particles = new ParticleBuffer();
  private readonly jets = new JetBuilder();
  private readonly pv: Vertex = { x: 0, y: 0, z: 0 };
  private readonly axis: Axis = { eta: 0, phi: 0 };
  private readonly semileptonic: Semileptonic = { pid: 0, leptonPt: 0, neutrinoPt: 0 };
  /** Scratch: a decay lepton's vertex. */
  private readonly leptonVertex: Vertex = { x: 0, y: 0, z: 0 };
  private t0 = 0;

  /** `pileup`: mean number of pile-up vertices (Poisson), each adding ~5.6 soft EFlow objects. */
  constructor(private readonly rng: Rng, private readonly pileupVertices = DEFAULT_PILEUP) {}

  simulate(truth: TruthEvent, rec: EventRecord): void {
    const rng = this.rng;
    rec.reset();
    this.jets.reset();
    this.pv.x = BEAM_XY * rng.normal();
    this.pv.y = BEAM_XY * rng.normal();
    this.pv.z = BEAM_Z * rng.normal();
    this.t0 = BEAM_T * rng.normal();

    for (let i = 0; i < truth.nLeptons; i++) {
      this.addLepton(rec, truth.leptonPid[i]!, truth.leptonPt[i]!, truth.leptonEta[i]!, truth.leptonPhi[i]!, this.pv, true);
    }
    for (let i = 0; i < truth.nPartons; i++) this.hadronise(rec, truth, i);
    this.recoil(rec, truth);
    this.softParticles(rec);
    this.ecal.flush(rec.photon);
    this.hcal.flush(rec.neutral);
    this.jets.write(rng, rec.jet);
    this.missingEt(rec);
  }

  /**
   * An electron or muon: a track (|η| < 2.5) and, when identified, an
   * Electron/MuonTight entry with the same measured values (so that stage 1
   * finds and removes its own track). Electrons radiate a brem photon 30 % of
   * the time. `fake`: a pion reconstructed as an electron.
   */
  private addLepton(rec: EventRecord, pid: number, truePt: number, eta: number, phi: number, v: Vertex, prompt: boolean, fake = false): void {
    const rng = this.rng;
    const isElectron = pid === ELECTRON || pid === -ELECTRON;
    let pt = truePt * (1 + 0.012 * rng.normal());
    if (isElectron && !fake && rng.uniform() < 0.3) {
      const share = uniformIn(rng, 0.02, 0.2);
      this.ecal.deposit(share * pt, eta + 0.01 * rng.normal(), wrapPhi(phi + 0.03 * rng.normal()));
      pt *= 1 - share;
    }
    const absEta = Math.abs(eta);
    if (absEta >= TRACKER_ETA || pt < TRACK_PT_MIN) return;
    const charge = chargeOf(pid);
    const t = rec.track.add();
    const tc = rec.track.columns;
    tc.PID[t] = fake ? charge * 211 : pid;
    tc.Charge[t] = charge;
    tc.PT[t] = pt;
    tc.Eta[t] = eta;
    tc.Phi[t] = phi;
    tc.X[t] = v.x;
    tc.Y[t] = v.y;
    tc.Z[t] = v.z;
    if (pt < LEPTON_PT_MIN) return;
    // Identification efficiency: lower in the endcaps and for leptons inside jets.
    let efficiency = isElectron ? (absEta < 1.5 ? 0.95 : 0.85) : absEta < MUON_ETA ? 0.95 : 0;
    if (!prompt) efficiency *= isElectron ? 0.7 : 0.9;
    if (!fake && rng.uniform() >= efficiency) return;
    const leptons = isElectron ? rec.electron : rec.muon;
    const l = leptons.add();
    const lc = leptons.columns;
    lc.PT[l] = pt;
    lc.Eta[l] = eta;
    lc.Phi[l] = phi;
    lc.T[l] = this.t0;
    lc.Charge[l] = charge;
  }

  /** Parton i → particles (via the scratch buffer) → tracks, towers, a proto-jet. */
  private hadronise(rec: EventRecord, truth: TruthEvent, i: number): void {
    const rng = this.rng;
    const pt = truth.partonPt[i]!;
    const flavour = truth.partonFlavour[i]!;
    const axis = this.axis;
    axis.eta = truth.partonEta[i]!;
    axis.phi = truth.partonPhi[i]!;
    const buf = this.particles;
    buf.n = 0;
    const forced = truth.partonLepton[i]!;
    const sl = this.semileptonic;

    if (flavour === Flavour.bottom || flavour === Flavour.charm) {
      const spec = flavour === Flavour.bottom ? B_HADRON : D_HADRON;
      let z = heavyHadronShare(rng, spec);
      let lepton: Semileptonic | null = null;
      if (forced !== 0) {
        sl.pid = forced;
        sl.leptonPt = truth.partonLeptonZ[i]! * pt;
        sl.neutrinoPt = truth.partonNeutrinoZ[i]! * pt;
        z = Math.max(z, Math.min(0.99, truth.partonLeptonZ[i]! + truth.partonNeutrinoZ[i]! + 0.03));
        lepton = sl;
      } else if (rng.uniform() < (flavour === Flavour.bottom ? B_SEMILEPTONIC : C_SEMILEPTONIC)) {
        // Lepton and neutrino shares of the hadron momentum.
        const x = uniformIn(rng, 0.1, 0.6);
        sl.pid = (rng.uniform() < 0.5 ? ELECTRON : MUON) * (rng.uniform() < 0.5 ? 1 : -1);
        sl.leptonPt = x * z * pt;
        sl.neutrinoPt = uniformIn(rng, 0.1, 0.9) * (1 - x) * z * pt;
        lepton = sl;
      }
      decayHeavyHadron(rng, buf, z * pt, spec, axis, this.pv, lepton);
      shower(rng, buf, (1 - z) * pt, QUARK_SHOWER, axis, this.pv);
    } else if (flavour === Flavour.tauHadronic) {
      decayHadronicTau(rng, buf, pt, axis, this.pv);
    } else if (forced !== 0) {
      // A light jet whose leading hadron is taken for a lepton (a fake, or a decay in flight).
      const share = truth.partonLeptonZ[i]!;
      const fake = forced === ELECTRON || forced === -ELECTRON;
      buf.add(fake ? FAKE_ELECTRON : LEPTON, forced, share * pt, 0.01 * rng.normal(), 0.01 * rng.normal(), this.pv.x, this.pv.y, this.pv.z);
      shower(rng, buf, (1 - share) * pt, flavour === Flavour.gluon ? GLUON_SHOWER : QUARK_SHOWER, axis, this.pv);
    } else {
      shower(rng, buf, pt, flavour === Flavour.gluon ? GLUON_SHOWER : QUARK_SHOWER, axis, this.pv);
    }
    this.emit(rec, this.jets.start(axis.eta, axis.phi, flavour));
  }

  /**
   * Sends the buffered particles of one jet through the detector. Neutral
   * hadrons (and charged ones beyond the tracker) get one calorimeter
   * response for the whole jet: Gaussian with σ = √(1/E + 0.05²); photons a
   * 3 % one; and a tail of badly measured jets. What is lost or gained
   * shows up in missing ET, along the jet.
   */
  private emit(rec: EventRecord, jet: number): void {
    const rng = this.rng;
    const buf = this.particles;
    const { eta: axisEta, phi: axisPhi } = this.axis;
    let hadronPt = 0;
    for (let k = 0; k < buf.n; k++) {
      const kind = buf.kind[k]!;
      if (kind === NEUTRAL_HADRON || (kind === CHARGED && Math.abs(axisEta + buf.dEta[k]!) >= TRACKER_ETA)) hadronPt += buf.pt[k]!;
    }
    const hadronE = Math.max(hadronPt * Math.cosh(axisEta), 0.5);
    let hadronResponse = clamp(1 + Math.sqrt(1 / hadronE + 0.0025) * rng.normal(), 0.05, 2);
    let photonResponse = 1 + 0.03 * rng.normal();
    if (rng.uniform() < BADLY_MEASURED) {
      // Punch-through, cracks, dead cells: the whole calorimeter part of the jet is low.
      const r = uniformIn(rng, 0.2, 0.8);
      hadronResponse *= r;
      photonResponse *= r;
    }
    for (let k = 0; k < buf.n; k++) {
      const kind = buf.kind[k]!;
      const truePt = buf.pt[k]!;
      const dEta = buf.dEta[k]!;
      const dPhi = buf.dPhi[k]!;
      const eta = axisEta + dEta;
      const phi = wrapPhi(axisPhi + dPhi);
      let pt = truePt;
      if (kind === LEPTON || kind === FAKE_ELECTRON) {
        const v = this.leptonVertex;
        v.x = buf.vx[k]!;
        v.y = buf.vy[k]!;
        v.z = buf.vz[k]!;
        this.addLepton(rec, buf.pid[k]!, truePt, eta, phi, v, false, kind === FAKE_ELECTRON);
      } else if (kind === CHARGED && Math.abs(eta) < TRACKER_ETA) {
        const pid = buf.pid[k]!;
        const t = rec.track.add();
        const c = rec.track.columns; // after add(): it may have grown the columns
        c.PID[t] = pid;
        c.Charge[t] = pid > 0 ? 1 : -1;
        c.PT[t] = pt;
        c.Eta[t] = eta;
        c.Phi[t] = phi;
        c.X[t] = buf.vx[k]!;
        c.Y[t] = buf.vy[k]!;
        c.Z[t] = buf.vz[k]!;
      } else if (kind === PHOTON) {
        pt = truePt * photonResponse;
        this.ecal.deposit(pt, eta, phi);
      } else {
        pt = truePt * hadronResponse;
        this.hcal.deposit(pt, eta, phi);
      }
      this.jets.add(jet, pt, dEta, dPhi);
    }
  }

  /**
   * Soft radiation taking the hard process's transverse recoil: the truth
   * generators balance their partons only roughly (a QCD recoil within 15 %,
   * extra jets drawn alone), and in a real event the rest of the event takes
   * up the difference. Particles of RECOIL.meanPt on average, spread around
   * the recoil direction, as charged hadrons, photons and neutral hadrons
   * (60/27/13 %); those outside the acceptance or below the thresholds are
   * lost, as any soft particle.
   */
  private recoil(rec: EventRecord, truth: TruthEvent): void {
    const rng = this.rng;
    let px = truth.nuPx;
    let py = truth.nuPy;
    for (let i = 0; i < truth.nPartons; i++) {
      px += truth.partonPt[i]! * Math.cos(truth.partonPhi[i]!);
      py += truth.partonPt[i]! * Math.sin(truth.partonPhi[i]!);
    }
    for (let i = 0; i < truth.nLeptons; i++) {
      px += truth.leptonPt[i]! * Math.cos(truth.leptonPhi[i]!);
      py += truth.leptonPt[i]! * Math.sin(truth.leptonPhi[i]!);
    }
    const total = Math.sqrt(px * px + py * py);
    if (total < 0.5) return;
    const direction = Math.atan2(-py, -px);
    const n = 1 + Math.floor(total / RECOIL.meanPt);
    const pv = this.pv;
    const pt = total / n;
    for (let k = 0; k < n; k++) {
      const phi = wrapPhi(direction + RECOIL.phiSpread * rng.normal());
      const eta = RECOIL.etaSpread * rng.normal();
      const u = rng.uniform();
      if (u < SPECIES.charged) {
        if (Math.abs(eta) < TRACKER_ETA && pt >= TRACK_PT_MIN) this.track(rec, chargedHadronPid(rng), pt, eta, phi, pv.x, pv.y, pv.z);
        else if (Math.abs(eta) < CALO_ETA_MAX) this.hcal.deposit(pt, eta, phi);
      } else if (Math.abs(eta) < CALO_ETA_MAX) {
        (u < SPECIES.photon ? this.ecal : this.hcal).deposit(pt, eta, phi);
      }
    }
  }

  /**
   * Underlying event (tracks from the primary vertex) and pile-up (tracks
   * from their own vertices, spread along the beam), uniform in η–φ; their
   * neutral particles only leave towers.
   */
  private softParticles(rec: EventRecord): void {
    const rng = this.rng;
    const pv = this.pv;
    const nUe = poisson(rng, SOFT.ueCharged);
    for (let k = 0; k < nUe; k++) this.softTrack(rec, SOFT.ueMeanPt, pv.x, pv.y, pv.z);
    // Pile-up tracks vertex by vertex (as a tracker's vertex collection lists them).
    const vertices = poisson(rng, this.pileupVertices);
    for (let v = 0; v < vertices; v++) {
      const x = BEAM_XY * rng.normal();
      const y = BEAM_XY * rng.normal();
      const z = BEAM_Z * rng.normal();
      const n = poisson(rng, SOFT.perVertexCharged);
      for (let k = 0; k < n; k++) this.softTrack(rec, SOFT.pileupMeanPt, x, y, z);
    }
    const np = poisson(rng, SOFT.uePhotons + vertices * SOFT.perVertexPhotons);
    for (let k = 0; k < np; k++) {
      const et = 0.1 + exponential(rng, SOFT.pileupMeanPt);
      this.ecal.deposit(et, uniformIn(rng, -CALO_ETA_MAX, CALO_ETA_MAX), uniformIn(rng, -Math.PI, Math.PI));
    }
    const nn = poisson(rng, SOFT.ueNeutrals + vertices * SOFT.perVertexNeutrals);
    for (let k = 0; k < nn; k++) {
      const et = 0.2 + exponential(rng, 1.5 * SOFT.pileupMeanPt);
      this.hcal.deposit(et, uniformIn(rng, -CALO_ETA_MAX, CALO_ETA_MAX), uniformIn(rng, -Math.PI, Math.PI));
    }
  }

  private softTrack(rec: EventRecord, meanPt: number, x: number, y: number, z: number): void {
    const rng = this.rng;
    const pid = chargedHadronPid(rng);
    const pt = TRACK_PT_MIN + exponential(rng, meanPt);
    this.track(rec, pid, pt, uniformIn(rng, -TRACKER_ETA, TRACKER_ETA), uniformIn(rng, -Math.PI, Math.PI), x, y, z);
  }

  private track(rec: EventRecord, pid: number, pt: number, eta: number, phi: number, x: number, y: number, z: number): void {
    const t = rec.track.add();
    const c = rec.track.columns;
    c.PID[t] = pid;
    c.Charge[t] = pid > 0 ? 1 : -1;
    c.PT[t] = pt;
    c.Eta[t] = eta;
    c.Phi[t] = phi;
    c.X[t] = x;
    c.Y[t] = y;
    c.Z[t] = z;
  }

  /** MissingET as Delphes computes it: −Σ of the EFlow objects' transverse momenta (η from their Σ pz). */
  private missingEt(rec: EventRecord): void {
    let mx = 0;
    let my = 0;
    let pz = 0;
    const tracks = rec.track.columns;
    for (let t = 0; t < rec.track.n; t++) {
      const pt = tracks.PT[t]!;
      mx -= pt * Math.cos(tracks.Phi[t]!);
      my -= pt * Math.sin(tracks.Phi[t]!);
      pz -= pt * Math.sinh(tracks.Eta[t]!);
    }
    for (const towers of [rec.photon, rec.neutral]) {
      const c = towers.columns;
      for (let t = 0; t < towers.n; t++) {
        const et = c.ET[t]!;
        mx -= et * Math.cos(c.Phi[t]!);
        my -= et * Math.sin(c.Phi[t]!);
        pz -= et * Math.sinh(c.Eta[t]!);
      }
    }
    const met = Math.sqrt(mx * mx + my * my);
    const m = rec.met.add();
    rec.met.columns.MET[m] = met;
    rec.met.columns.Eta[m] = met > 0 ? Math.asinh(pz / met) : 0;
    rec.met.columns.Phi[m] = Math.atan2(my, mx);
  }
}
