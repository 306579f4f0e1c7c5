/**
 * The rows a sweep trains on: a seeded, class-stratified fraction of a
 * features stage's training rows, split into k stratified folds, held in
 * memory (the seed tuned on a 2 % sample). Stored once per content
 * (data, fraction, folds, seed, inputs) as one tensor file, so every trial of
 * every sweep over the same data reads it instead of scanning the parts.
 */
import { Rng } from '../../common/rng.js';
import { CLASSES, HLF_FEATURES, PARTICLE_FEATURES } from '../../hep/layout.js';
import type { Storage } from '../../storage/index.js';
import { orderedRows, shuffled, type DataNeeds, type PartRef, type Row } from '../data.js';
import { packTensors, unpackTensors, type NamedTensor, type PackedTensor } from '../tensorPack.js';

export interface SampleSettings {
  /** Fraction of each class's rows taken, in (0, 1]. */
  fraction: number;
  folds: number;
  seed: number;
}

export interface TuningSample {
  rows: Row[];
  /** The fold of each row, 0 … folds − 1. */
  fold: Int8Array;
  folds: number;
}

/**
 * Which rows (by position in the stream) the sample takes, and the fold of
 * each: per class, a seeded shuffle of its rows, the first round(fraction · n)
 * of them, dealt to the folds in turn (so every fold has each class's share,
 * give or take one). Returns the chosen positions in stream order.
 */
export function stratifiedFolds(labels: ArrayLike<number>, s: SampleSettings): { positions: number[]; fold: number[] } {
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const foldOf = new Map<number, number>();
  byClass.forEach((rows, c) => {
    const take = Math.round(s.fraction * rows.length);
    shuffled(rows, new Rng(s.seed, c, 0x5a3e)).slice(0, take).forEach((pos, j) => foldOf.set(pos, j % s.folds));
  });
  const positions = [...foldOf.keys()].sort((a, b) => a - b);
  return { positions, fold: positions.map((p) => foldOf.get(p)!) };
}

/** Two passes over the parts: the labels, then the chosen rows with the model's inputs. */
export async function drawSample(storage: Storage, parts: PartRef[], needs: DataNeeds, s: SampleSettings, progress?: (done: number) => void): Promise<TuningSample> {
  const labels: number[] = [];
  for await (const row of orderedRows(storage, parts, { hlf: false, particles: false, trim: false })) labels.push(row.label);
  const { positions, fold } = stratifiedFolds(labels, s);
  const small = fold.length < s.folds * CLASSES;
  if (small) throw new Error(`a ${s.fraction} sample of ${labels.length} training rows has ${fold.length} rows: too few for ${s.folds} folds of ${CLASSES} classes; raise sample`);
  const rows: Row[] = [];
  let next = 0;
  let at = 0;
  for await (const row of orderedRows(storage, parts, needs)) {
    if (positions[next] === at) {
      rows.push(row);
      next++;
    }
    at++;
    if (at % 10_000 === 0) progress?.(at);
  }
  return { rows, fold: Int8Array.from(fold), folds: s.folds };
}

/** The rows of fold `f` (held out) and of the others (trained on), in sample order. */
export function foldSplit(sample: TuningSample, f: number): { train: Row[]; test: Row[] } {
  const train: Row[] = [];
  const test: Row[] = [];
  sample.rows.forEach((r, i) => (sample.fold[i] === f ? test : train).push(r));
  return { train, test };
}

interface SampleHeader {
  format: 'topoflow.tune-sample/1';
  folds: number;
  rows: number;
  /** Particle rows per event as stored (0 without particles). */
  steps: number;
  layout: PackedTensor[];
}

/** One file: a JSON header line, then the tensors (labels, folds, lengths, hlf, particles). */
export function encodeSample(sample: TuningSample): Uint8Array {
  const n = sample.rows.length;
  const first = sample.rows[0];
  const steps = first?.particles ? first.particles.length / PARTICLE_FEATURES : 0;
  const column = (get: (r: Row) => number) => Float32Array.from(sample.rows, get);
  const tensors: NamedTensor[] = [
    { name: 'label', shape: [n], values: column((r) => r.label) },
    { name: 'fold', shape: [n], values: Float32Array.from(sample.fold) },
    { name: 'length', shape: [n], values: column((r) => r.length) },
  ];
  if (first?.hlf) tensors.push({ name: 'hlf', shape: [n, HLF_FEATURES], values: concat(sample.rows.map((r) => r.hlf!), n * HLF_FEATURES) });
  if (steps) tensors.push({ name: 'particles', shape: [n, steps, PARTICLE_FEATURES], values: concat(sample.rows.map((r) => r.particles!), n * steps * PARTICLE_FEATURES) });
  const { bytes, layout } = packTensors(tensors);
  const header: SampleHeader = { format: 'topoflow.tune-sample/1', folds: sample.folds, rows: n, steps, layout };
  const head = new TextEncoder().encode(`${JSON.stringify(header)}\n`);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

export function decodeSample(bytes: Uint8Array): TuningSample {
  const newline = bytes.indexOf(10);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline))) as SampleHeader;
  if (header.format !== 'topoflow.tune-sample/1') throw new Error(`not a tuning sample (format ${JSON.stringify(header.format)})`);
  const values = unpackTensors(bytes.subarray(newline + 1), header.layout);
  const tensors = new Map(header.layout.map((t, i) => [t.name, values[i]!] as const));
  const hlf = tensors.get('hlf');
  const particles = tensors.get('particles');
  const width = header.steps * PARTICLE_FEATURES;
  const rows: Row[] = Array.from({ length: header.rows }, (_, i) => ({
    label: tensors.get('label')![i]!,
    length: tensors.get('length')![i]!,
    hlf: hlf?.subarray(i * HLF_FEATURES, (i + 1) * HLF_FEATURES),
    particles: particles?.subarray(i * width, (i + 1) * width),
  }));
  return { rows, fold: Int8Array.from(tensors.get('fold')!), folds: header.folds };
}

function concat(parts: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
