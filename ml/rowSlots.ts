/**
 * Rows copied out of decoded row groups into reusable slots, so that a stream
 * can hold, reorder and batch rows without allocating anything per row: the
 * shuffle buffer and the batch being filled hold slot numbers, and a row is
 * copied twice (into its slot, then into its batch), as many times as when
 * each row was a Float32Array of its own. Slots come in pages of 256, added
 * when none is free, so the slots never outnumber the most rows held at once
 * (by the stream: its buffer plus a batch) by more than a page.
 */
import type { ModelInputs } from '../hep/features/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { realLengthAt, type Batch, type DataNeeds, type Row } from './rows.js';

const PAGE_BITS = 8;
const PAGE = 1 << PAGE_BITS;

export class RowSlots {
  private readonly hlfPages: Float32Array[] = [];
  private readonly particlePages: Float32Array[] = [];
  private readonly lengthPages: Int32Array[] = [];
  private readonly labelPages: Int8Array[] = [];
  private readonly free: number[] = [];
  /** Particle rows per event: set by the first row group put, the same for all. */
  private steps = 0;

  constructor(private readonly needs: DataNeeds) {}

  /** Copies row `r` of a decoded row group into a free slot; returns the slot. */
  put(cols: ModelInputs, r: number): number {
    if (this.free.length === 0) this.addPage(cols);
    const slot = this.free.pop()!;
    const page = slot >>> PAGE_BITS;
    const at = slot & (PAGE - 1);
    this.labelPages[page]![at] = cols.label[r]!;
    if (this.needs.hlf) {
      const to = this.hlfPages[page]!;
      const src = cols.hlf;
      // 14 values: a loop beats set() on a subarray, which allocates a view.
      for (let k = 0, o = at * HLF_FEATURES, i = r * HLF_FEATURES; k < HLF_FEATURES; k++) to[o + k] = src[i + k]!;
    }
    if (this.needs.particles) {
      if (cols.particles !== this.steps) throw new Error(`stage-2 parts disagree on particle rows per event (${this.steps} and ${cols.particles})`);
      const width = this.steps * PARTICLE_FEATURES;
      const to = this.particlePages[page]!;
      to.set(cols.gru!.subarray(r * width, (r + 1) * width), at * width);
      this.lengthPages[page]![at] = this.needs.trim ? realLengthAt(to, at * width, width) : this.steps;
    }
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** The slots' rows as one batch, as `assemble` makes it from rows. */
  batch(slots: readonly number[]): Batch {
    const size = slots.length;
    const labels = new Int8Array(size);
    for (let i = 0; i < size; i++) labels[i] = this.labelPages[slots[i]! >>> PAGE_BITS]![slots[i]! & (PAGE - 1)]!;
    let hlf: Float32Array | undefined;
    if (this.needs.hlf) {
      hlf = new Float32Array(size * HLF_FEATURES);
      for (let i = 0; i < size; i++) {
        const from = this.hlfPages[slots[i]! >>> PAGE_BITS]!;
        for (let k = 0, o = i * HLF_FEATURES, f = (slots[i]! & (PAGE - 1)) * HLF_FEATURES; k < HLF_FEATURES; k++) hlf[o + k] = from[f + k]!;
      }
    }
    let particles: Float32Array | undefined;
    let steps = 0;
    if (this.needs.particles) {
      steps = this.needs.trim ? 1 : this.steps;
      if (this.needs.trim) for (const s of slots) steps = Math.max(steps, this.lengthPages[s >>> PAGE_BITS]![s & (PAGE - 1)]!);
      const width = steps * PARTICLE_FEATURES;
      const full = this.steps * PARTICLE_FEATURES;
      particles = new Float32Array(size * width);
      for (let i = 0; i < size; i++) {
        const at = (slots[i]! & (PAGE - 1)) * full;
        particles.set(this.particlePages[slots[i]! >>> PAGE_BITS]!.subarray(at, at + width), i * width);
      }
    }
    return { size, hlf, particles, steps, labels };
  }

  /** A slot's row as a Row of its own (a copy; particles untrimmed, `length` as trimming sees it). */
  row(slot: number): Row {
    const page = slot >>> PAGE_BITS;
    const at = slot & (PAGE - 1);
    const full = this.steps * PARTICLE_FEATURES;
    return {
      hlf: this.needs.hlf ? this.hlfPages[page]!.slice(at * HLF_FEATURES, (at + 1) * HLF_FEATURES) : undefined,
      particles: this.needs.particles ? this.particlePages[page]!.slice(at * full, (at + 1) * full) : undefined,
      length: this.needs.particles ? this.lengthPages[page]![at]! : 0,
      label: this.labelPages[page]![at]!,
    };
  }

  private addPage(cols: ModelInputs): void {
    if (this.labelPages.length === 0) this.steps = cols.particles;
    const first = this.labelPages.length * PAGE;
    this.labelPages.push(new Int8Array(PAGE));
    if (this.needs.hlf) this.hlfPages.push(new Float32Array(PAGE * HLF_FEATURES));
    if (this.needs.particles) {
      this.particlePages.push(new Float32Array(PAGE * this.steps * PARTICLE_FEATURES));
      this.lengthPages.push(new Int32Array(PAGE));
    }
    for (let s = first + PAGE - 1; s >= first; s--) this.free.push(s);
  }
}
