/**
 * Massless four-vectors, Δφ and ΔR (seed-pipeline.md §2.1). Plain functions on
 * numbers so the hot loops allocate nothing.
 */

const TWO_PI = 2 * Math.PI;

/** Delphes marks undefined directions with sentinels such as Eta = 999.9. */
const MAX_ABS_ETA = 100;

/** A row buffer a vector can be written into. */
export type RowBuffer = Float32Array | Float64Array;

/** False for a particle stage 1 must ignore everywhere: Eta or Phi not finite, or a sentinel |Eta|. */
export function hasDirection(eta: number, phi: number): boolean {
  return Math.abs(eta) <= MAX_ABS_ETA && Number.isFinite(phi); // NaN and ±Infinity fail the first test
}

/** Δφ brought into [−π, π]. */
export function wrapDeltaPhi(dphi: number): number {
  if (dphi >= -Math.PI && dphi <= Math.PI) return dphi;
  // One turn suffices for φ in [−π, π]; the general form also keeps odd inputs from looping.
  const once = dphi > 0 ? dphi - TWO_PI : dphi + TWO_PI;
  if (once >= -Math.PI && once <= Math.PI) return once;
  return dphi - TWO_PI * Math.round(dphi / TWO_PI);
}

/**
 * The published isolation's Δφ: it wraps only beyond ±2π, so for φ in [−π, π]
 * it never wraps and cones straddling φ = ±π are cut short (§2.7 bug 1).
 */
export function seedDeltaPhi(dphi: number): number {
  if (dphi > TWO_PI) return dphi - TWO_PI;
  if (dphi < -TWO_PI) return dphi + TWO_PI;
  return dphi;
}

/** √(Δη² + Δφ²) with Δφ correctly wrapped. */
export function deltaR(eta1: number, phi1: number, eta2: number, phi2: number): number {
  const deta = eta1 - eta2;
  const dphi = wrapDeltaPhi(phi1 - phi2);
  return Math.sqrt(deta * deta + dphi * dphi);
}

/**
 * Writes E, Px, Py, Pz of the massless vector (pt, eta, phi) at out[at..at+3],
 * the way the seed's SetPtEtaPhiM(|pt|, η, φ, 0) builds it; E = |pt|·cosh η.
 */
export function writeMasslessVector(out: RowBuffer, at: number, pt: number, eta: number, phi: number): void {
  const absPt = Math.abs(pt);
  const px = absPt * Math.cos(phi);
  const py = absPt * Math.sin(phi);
  const pz = absPt * Math.sinh(eta);
  out[at] = Math.sqrt(px * px + py * py + pz * pz);
  out[at + 1] = px;
  out[at + 2] = py;
  out[at + 3] = pz;
}

/** The vector's Pt(): √(Px² + Py²). */
export function vectorPt(px: number, py: number): number {
  return Math.sqrt(px * px + py * py);
}

/**
 * The vector's Eta(). asinh(Pz/Pt) equals the seed's −½·ln((1−cosθ)/(1+cosθ))
 * and, unlike it, stays exact where cosθ rounds to ±1.
 */
export function vectorEta(px: number, py: number, pz: number): number {
  return Math.asinh(pz / vectorPt(px, py));
}

/** The vector's Phi(): atan2(Py, Px). */
export function vectorPhi(px: number, py: number): number {
  return Math.atan2(py, px);
}
