/**
 * Calorimeter towers: Delphes makes EFlowPhoton / EFlowNeutralHadron from
 * calorimeter cells, so neutral deposits in the same cell merge and sit at
 * the cell centre. ECAL cells are 0.0174 × 0.0174 (photons), HCAL cells
 * 0.087 × 0.087 (neutral hadrons), both over |η| < 3. A tower is kept when
 * its energy passes the cell threshold (0.5 GeV ECAL, 1 GeV HCAL, as in the
 * CMS card).
 */
import type { Collection } from './record.js';

export const CALO_ETA_MAX = 3;

type TowerColumns = 'ET' | 'Eta' | 'Phi' | 'E';

/** Open-addressing table size: far above the ~100 cells hit per event. */
const SLOTS = 2048;
const EMPTY = -1;

export class TowerGrid {
  private readonly nEta: number;
  private readonly nPhi: number;
  /** Cell id per slot (EMPTY when free) and its summed ET: a small, cache-friendly hash map. */
  private readonly slotCell = new Int32Array(SLOTS).fill(EMPTY);
  private readonly slotEt = new Float64Array(SLOTS);
  /** Slots used in this event, in first-hit order (the order towers are written). */
  private readonly used = new Int32Array(SLOTS);
  private nUsed = 0;
  private readonly etaCentre: Float64Array;
  private readonly coshCentre: Float64Array;
  private readonly phiCentre: Float64Array;

  constructor(cell: number, private readonly energyMin: number) {
    this.nEta = Math.round((2 * CALO_ETA_MAX) / cell);
    this.nPhi = Math.round((2 * Math.PI) / cell);
    this.etaCentre = Float64Array.from({ length: this.nEta }, (_, i) => -CALO_ETA_MAX + (i + 0.5) * ((2 * CALO_ETA_MAX) / this.nEta));
    this.coshCentre = this.etaCentre.map(Math.cosh);
    this.phiCentre = Float64Array.from({ length: this.nPhi }, (_, i) => -Math.PI + (i + 0.5) * ((2 * Math.PI) / this.nPhi));
  }

  /** Adds a deposit of transverse energy `et` at (eta, phi); φ must be in [-π, π). Outside |η| < 3 it is lost. */
  deposit(et: number, eta: number, phi: number): void {
    if (eta <= -CALO_ETA_MAX || eta >= CALO_ETA_MAX) return;
    const ie = Math.floor(((eta + CALO_ETA_MAX) / (2 * CALO_ETA_MAX)) * this.nEta);
    const ip = Math.min(this.nPhi - 1, Math.floor(((phi + Math.PI) / (2 * Math.PI)) * this.nPhi));
    const cell = ie * this.nPhi + ip;
    let slot = Math.imul(cell, 0x9e3779b1) >>> 21; // top 11 bits: SLOTS = 2^11
    for (;;) {
      const c = this.slotCell[slot]!;
      if (c === cell) break;
      if (c === EMPTY) {
        if (this.nUsed === SLOTS >> 1) return; // keep the table half empty; never reached at LHC-like occupancies
        this.slotCell[slot] = cell;
        this.slotEt[slot] = 0;
        this.used[this.nUsed++] = slot;
        break;
      }
      slot = (slot + 1) & (SLOTS - 1);
    }
    this.slotEt[slot] = this.slotEt[slot]! + et;
  }

  /** Writes the towers above threshold into `out` and clears the grid. */
  flush(out: Collection<TowerColumns>): void {
    for (let k = 0; k < this.nUsed; k++) {
      const slot = this.used[k]!;
      const cell = this.slotCell[slot]!;
      const et = this.slotEt[slot]!;
      this.slotCell[slot] = EMPTY;
      const ie = (cell / this.nPhi) | 0;
      const e = et * this.coshCentre[ie]!;
      if (e < this.energyMin) continue;
      const i = out.add();
      const c = out.columns; // after add(): it may have grown the columns
      c.ET[i] = et;
      c.Eta[i] = this.etaCentre[ie]!;
      c.Phi[i] = this.phiCentre[cell - ie * this.nPhi]!;
      c.E[i] = e;
    }
    this.nUsed = 0;
  }
}
