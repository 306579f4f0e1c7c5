/**
 * The three isolation p_T maps of an event (seed-pipeline.md §2.1: entries
 * [Eta, Phi, pT] of tracks, photons, neutral hadrons) in one grid over (η, φ),
 * tagged by map. A cone query computes its cell window once and tests only the
 * entries of the few cells around the particle, summing each map separately.
 * Every scanned entry gets the exact cone test, so the grid changes the speed,
 * never the result (up to the order of the float summation). Buffers are
 * reused from event to event.
 */
import { seedDeltaPhi, wrapDeltaPhi } from './kinematics.js';

/** Which map an entry belongs to; also its index in the sums (the order of the row's iso columns). */
export const CHARGED = 0;
export const PHOTON = 1;
export const NEUTRAL = 2;
export type MapKind = typeof CHARGED | typeof PHOTON | typeof NEUTRAL;

/** The isolation cone: Δη² + Δφ² < 0.3² (strict). */
const ISO_CONE_DR2 = 0.3 * 0.3;

/**
 * How far a query reaches: the cone radius plus a margin far above the
 * rounding of the bounds for |η| ≤ 100, so no in-cone entry lies in a cell the
 * query skips.
 */
const REACH = 0.3 + 1e-9;

/**
 * Cell coordinates are floor(η·ROWS_PER_ETA) and floor((φ + π)·CELLS_PER_PHI):
 * monotone in η and φ, which is all the window logic relies on. Rows are as
 * high as the cone radius (a query spans ≤ 3); 20 φ cells of ≈ 0.31 per row
 * (a query spans ≤ 3, and its wrapped part never overlaps its main part).
 */
const ROWS_PER_ETA = 1 / 0.3;
const PHI_CELLS = 20;
const CELLS_PER_PHI = PHI_CELLS / (2 * Math.PI);

function phiCell(phi: number): number {
  const cell = Math.floor((phi + Math.PI) * CELLS_PER_PHI);
  return cell < 0 ? 0 : cell >= PHI_CELLS ? PHI_CELLS - 1 : cell;
}

function isPrincipalPhi(phi: number): boolean {
  return phi >= -Math.PI && phi <= Math.PI;
}

export class IsolationGrid {
  /** Σ pT in the cone per map, by MapKind; written by sumInCone(). */
  readonly coneSums = new Float64Array(3);
  private readonly sizes = new Int32Array(3);

  /** Entries as added and their cell. */
  private addedEta = new Float64Array(256);
  private addedPhi = new Float64Array(256);
  private addedPt = new Float64Array(256);
  private addedKind = new Uint8Array(256);
  private addedCell = new Int32Array(256);
  private count = 0;

  /** The same entries ordered by cell (insertion order within a cell), filled by index(). */
  private eta = new Float64Array(256);
  private phi = new Float64Array(256);
  private pt = new Float64Array(256);
  private kind = new Uint8Array(256);
  /** Entries of cell k lie at [cellStart[k], cellStart[k + 1]); k = (row − firstRow)·PHI_CELLS + φ cell. */
  private cellStart = new Int32Array(1024);
  private cellCursor = new Int32Array(1024);
  private firstRow = 0;
  private rows = 0;
  /** False when some entry's φ lies outside [−π, π] (possible only with the seed's Δφ, which keeps φ as given). */
  private allPhiPrincipal = true;

  /**
   * `correctWrap`: Δφ wrapped into [−π, π]; φ is then stored and queried in
   * [−π, π], which leaves the wrapped Δφ unchanged. Otherwise the seed's
   * 2π-threshold Δφ on φ as given.
   */
  constructor(private readonly correctWrap: boolean) {}

  /** Entries of one map. */
  size(kind: MapKind): number {
    return this.sizes[kind]!;
  }

  clear(): void {
    this.count = 0;
    this.rows = 0;
    this.sizes.fill(0);
  }

  /** Adds an entry; `eta` must be finite with |eta| ≤ 100 and `phi` finite (see hasDirection). Call index() before querying. */
  add(kind: MapKind, eta: number, phi: number, pt: number): void {
    if (this.count === this.addedEta.length) this.growEntries();
    const i = this.count++;
    this.addedKind[i] = kind;
    this.addedEta[i] = eta;
    this.addedPhi[i] = this.correctWrap ? wrapDeltaPhi(phi) : phi;
    this.addedPt[i] = pt;
    this.sizes[kind]!++;
  }

  /** Sorts the entries into the grid (a stable counting sort); needed once after the last add(). */
  index(): void {
    const n = this.count;
    this.rows = 0;
    if (n === 0) return;
    let minRow = Infinity;
    let maxRow = -Infinity;
    this.allPhiPrincipal = true;
    for (let i = 0; i < n; i++) {
      const row = Math.floor(this.addedEta[i]! * ROWS_PER_ETA);
      if (row < minRow) minRow = row;
      if (row > maxRow) maxRow = row;
      if (!isPrincipalPhi(this.addedPhi[i]!)) this.allPhiPrincipal = false;
    }
    const cells = (maxRow - minRow + 1) * PHI_CELLS;
    if (cells + 1 > this.cellStart.length) {
      this.cellStart = new Int32Array(2 * (cells + 1));
      this.cellCursor = new Int32Array(2 * (cells + 1));
    }
    const start = this.cellStart;
    start.fill(0, 0, cells + 1);
    for (let i = 0; i < n; i++) {
      const cell = (Math.floor(this.addedEta[i]! * ROWS_PER_ETA) - minRow) * PHI_CELLS + phiCell(this.addedPhi[i]!);
      this.addedCell[i] = cell;
      start[cell + 1]!++;
    }
    for (let k = 0; k < cells; k++) start[k + 1]! += start[k]!;
    const cursor = this.cellCursor;
    cursor.set(start.subarray(0, cells));
    for (let i = 0; i < n; i++) {
      const to = cursor[this.addedCell[i]!]!++;
      this.eta[to] = this.addedEta[i]!;
      this.phi[to] = this.addedPhi[i]!;
      this.pt[to] = this.addedPt[i]!;
      this.kind[to] = this.addedKind[i]!;
    }
    this.firstRow = minRow;
    this.rows = maxRow - minRow + 1;
  }

  /** Sets coneSums[kind] = Σ pT of that map's entries with Δη² + Δφ² < 0.3² around (eta, phi), with this grid's Δφ. */
  sumInCone(eta: number, phi: number): void {
    const sums = this.coneSums;
    // Element stores: TypedArray fill() is a builtin call, costly at this rate.
    sums[CHARGED] = 0;
    sums[PHOTON] = 0;
    sums[NEUTRAL] = 0;
    let rowLo = Math.floor((eta - REACH) * ROWS_PER_ETA) - this.firstRow;
    let rowHi = Math.floor((eta + REACH) * ROWS_PER_ETA) - this.firstRow;
    if (rowLo < 0) rowLo = 0;
    if (rowHi >= this.rows) rowHi = this.rows - 1;
    if (rowLo > rowHi) return;
    const q = this.correctWrap ? wrapDeltaPhi(phi) : phi;
    if (!this.correctWrap && !(this.allPhiPrincipal && isPrincipalPhi(q))) {
      // The seed's Δφ on φ outside [−π, π] may or may not wrap: scan the whole rows.
      this.sumCells(eta, q, rowLo * PHI_CELLS, (rowHi + 1) * PHI_CELLS - 1);
      return;
    }
    const cellLo = phiCell(q - REACH);
    const cellHi = phiCell(q + REACH);
    // A correctly wrapped cone crossing φ = ±π continues at the other end of each row.
    let wrapLo = 1;
    let wrapHi = 0;
    if (this.correctWrap && q - REACH < -Math.PI) {
      wrapLo = phiCell(q + 2 * Math.PI - REACH);
      wrapHi = PHI_CELLS - 1;
    } else if (this.correctWrap && q + REACH > Math.PI) {
      wrapLo = 0;
      wrapHi = phiCell(q - 2 * Math.PI + REACH);
    }
    for (let base = rowLo * PHI_CELLS; base <= rowHi * PHI_CELLS; base += PHI_CELLS) {
      this.sumCells(eta, q, base + cellLo, base + cellHi);
      if (wrapLo <= wrapHi) this.sumCells(eta, q, base + wrapLo, base + wrapHi);
    }
  }

  /** Adds the exact cone sums over the entries of cells firstCell..lastCell to coneSums. */
  private sumCells(eta: number, phi: number, firstCell: number, lastCell: number): void {
    const end = this.cellStart[lastCell + 1]!;
    const etas = this.eta;
    const phis = this.phi;
    const sums = this.coneSums;
    const correctWrap = this.correctWrap;
    for (let i = this.cellStart[firstCell]!; i < end; i++) {
      const deta = eta - etas[i]!;
      const rawDphi = phi - phis[i]!;
      const dphi = correctWrap ? wrapDeltaPhi(rawDphi) : seedDeltaPhi(rawDphi);
      if (deta * deta + dphi * dphi < ISO_CONE_DR2) sums[this.kind[i]!]! += this.pt[i]!;
    }
  }

  private growEntries(): void {
    const capacity = 2 * this.addedEta.length;
    this.addedEta = grown(this.addedEta, capacity);
    this.addedPhi = grown(this.addedPhi, capacity);
    this.addedPt = grown(this.addedPt, capacity);
    const kinds = new Uint8Array(capacity);
    kinds.set(this.addedKind);
    this.addedKind = kinds;
    this.addedCell = new Int32Array(capacity);
    this.eta = new Float64Array(capacity);
    this.phi = new Float64Array(capacity);
    this.pt = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
  }
}

function grown(from: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const to = new Float64Array(capacity);
  to.set(from);
  return to;
}
