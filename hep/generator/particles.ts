/**
 * Scratch list of the particles of one jet (or one soft source) before the
 * detector sees them: kind, PDG code, pT, direction relative to the parent
 * axis, production vertex (mm, absolute).
 */

export const CHARGED = 0;
export const PHOTON = 1;
export const NEUTRAL_HADRON = 2;
/** An electron or muon: a track, plus an Electron/MuonTight entry when identified. */
export const LEPTON = 3;
/** A charged pion reconstructed as an electron (QCD fakes): a pion track and an Electron entry. */
export const FAKE_ELECTRON = 4;

const CAPACITY = 1024;

export class ParticleBuffer {
  n = 0;
  readonly kind = new Uint8Array(CAPACITY);
  readonly pid = new Int32Array(CAPACITY);
  readonly pt = new Float64Array(CAPACITY);
  readonly dEta = new Float64Array(CAPACITY);
  readonly dPhi = new Float64Array(CAPACITY);
  readonly vx = new Float64Array(CAPACITY);
  readonly vy = new Float64Array(CAPACITY);
  readonly vz = new Float64Array(CAPACITY);

  /** Index of a new particle, or -1 when full (then the particle is dropped). */
  add(kind: number, pid: number, pt: number, dEta: number, dPhi: number, vx: number, vy: number, vz: number): number {
    const i = this.n;
    if (i === CAPACITY) return -1;
    this.n++;
    this.kind[i] = kind;
    this.pid[i] = pid;
    this.pt[i] = pt;
    this.dEta[i] = dEta;
    this.dPhi[i] = dPhi;
    this.vx[i] = vx;
    this.vy[i] = vy;
    this.vz[i] = vz;
    return i;
  }
}
