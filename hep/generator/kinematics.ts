/** Four-vectors for the resonance decays (W, top, tau) and angle helpers. Units: GeV. */
import type { Rng } from '../../common/rng.js';

export class P4 {
  constructor(public px = 0, public py = 0, public pz = 0, public e = 0) {}

  set(px: number, py: number, pz: number, e: number): this {
    this.px = px;
    this.py = py;
    this.pz = pz;
    this.e = e;
    return this;
  }

  /** From transverse momentum, rapidity y, azimuth and mass (how resonances are produced). */
  setPtYPhiM(pt: number, y: number, phi: number, m: number): this {
    const mt = Math.sqrt(pt * pt + m * m);
    return this.set(pt * Math.cos(phi), pt * Math.sin(phi), mt * Math.sinh(y), mt * Math.cosh(y));
  }

  get pt(): number {
    return Math.sqrt(this.px * this.px + this.py * this.py);
  }

  get phi(): number {
    return Math.atan2(this.py, this.px);
  }

  /** Pseudorapidity; ±20 along the beam. */
  get eta(): number {
    const pt = this.pt;
    if (pt === 0) return this.pz >= 0 ? 20 : -20;
    return Math.asinh(this.pz / pt);
  }

  get mass(): number {
    const m2 = this.e * this.e - this.px * this.px - this.py * this.py - this.pz * this.pz;
    return m2 > 0 ? Math.sqrt(m2) : 0;
  }

  scaled(f: number, out = new P4()): P4 {
    return out.set(this.px * f, this.py * f, this.pz * f, this.e * f);
  }

  /** Applies the boost of velocity (bx, by, bz) in place. */
  boost(bx: number, by: number, bz: number): this {
    const b2 = bx * bx + by * by + bz * bz;
    if (b2 === 0) return this;
    const gamma = 1 / Math.sqrt(1 - b2);
    const bp = bx * this.px + by * this.py + bz * this.pz;
    const g2 = (gamma - 1) / b2;
    const k = g2 * bp + gamma * this.e;
    this.px += k * bx;
    this.py += k * by;
    this.pz += k * bz;
    this.e = gamma * (this.e + bp);
    return this;
  }
}

/**
 * Isotropic two-body decay of `parent` into masses m1, m2 (in its rest frame,
 * then boosted to the lab); the daughters are written to d1 and d2.
 */
export function twoBodyDecay(rng: Rng, parent: P4, m1: number, m2: number, d1: P4, d2: P4): void {
  const m = parent.mass;
  const p = Math.sqrt(Math.max(0, (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2))) / (2 * m);
  const cosT = 2 * rng.uniform() - 1;
  const sinT = Math.sqrt(1 - cosT * cosT);
  const phi = 2 * Math.PI * rng.uniform();
  const px = p * sinT * Math.cos(phi);
  const py = p * sinT * Math.sin(phi);
  const pz = p * cosT;
  d1.set(px, py, pz, Math.sqrt(p * p + m1 * m1));
  d2.set(-px, -py, -pz, Math.sqrt(p * p + m2 * m2));
  const bx = parent.px / parent.e;
  const by = parent.py / parent.e;
  const bz = parent.pz / parent.e;
  d1.boost(bx, by, bz);
  d2.boost(bx, by, bz);
}

/** Azimuth wrapped into [-π, π). */
export function wrapPhi(phi: number): number {
  if (phi >= Math.PI) return phi - 2 * Math.PI * Math.floor((phi + Math.PI) / (2 * Math.PI));
  if (phi < -Math.PI) return phi + 2 * Math.PI * Math.floor((Math.PI - phi) / (2 * Math.PI));
  return phi;
}

export function deltaR2(eta1: number, phi1: number, eta2: number, phi2: number): number {
  const dEta = eta1 - eta2;
  const dPhi = wrapPhi(phi1 - phi2);
  return dEta * dEta + dPhi * dPhi;
}
