/**
 * Events → one Delphes ROOT file (TTree `Delphes`, zlib level 1, like
 * Delphes' own output). Byte-identical for the same options: the file's
 * date is fixed and its UUID comes from the file's random stream.
 */
import { TreeWriter, type CollectionSpec, type LeafType } from '../../root/write/index.js';
import { EventGenerator, SAMPLE_MODELS } from './events.js';
import { DELPHES_COLLECTIONS } from './record.js';
import { Rng } from '../../common/rng.js';
import type { SampleName } from './samples/model.js';

export interface GenerateFileOptions {
  sample: SampleName;
  seed: number;
  fileIndex: number;
  events: number;
  /** Mean pile-up vertices (default 8); more makes busier, slower-to-write events. */
  pileup?: number;
}

const LEAF: Record<'F' | 'I' | 'U', LeafType> = { F: 'Float_t', I: 'Int_t', U: 'UInt_t' };

/** The Delphes collections as the writer's schema. */
export const DELPHES_SCHEMA: CollectionSpec[] = DELPHES_COLLECTIONS.map((c) => ({
  name: c.name,
  members: Object.entries(c.members).map(([name, t]) => ({ name, type: LEAF[t] })),
}));

const FILE_DATE = new Date(Date.UTC(2019, 0, 1));
/** Stream key for the UUID, apart from the event streams. */
const UUID_STREAM = 0x55554944;

/** Incremental writer of one file: `add(n)` events at a time (lets callers yield between batches), then `finish()`. */
export class FileGenerator {
  private readonly generator: EventGenerator;
  private readonly writer: TreeWriter;
  private written = 0;

  constructor(readonly options: GenerateFileOptions) {
    const { sample, seed, fileIndex, pileup } = options;
    this.generator = new EventGenerator(sample, seed, fileIndex, pileup);
    const uuidRng = new Rng(seed, SAMPLE_MODELS[sample].label, fileIndex, UUID_STREAM);
    const uuid = new Uint8Array(16);
    for (let i = 0; i < 16; i++) uuid[i] = uuidRng.u32() & 0xff;
    this.writer = new TreeWriter({
      treeName: 'Delphes',
      title: `topoflow synthetic ${sample} (seed ${seed}, file ${fileIndex})`,
      collections: DELPHES_SCHEMA,
      compression: { algorithm: 'zlib', level: 1 },
      fileName: `${sample}_${String(fileIndex).padStart(3, '0')}.root`,
      date: FILE_DATE,
      uuid,
    });
  }

  /** Events still to generate. */
  get remaining(): number {
    return this.options.events - this.written;
  }

  /** Generates and writes up to `n` more events; returns how many. */
  add(n: number): number {
    const count = Math.min(n, this.remaining);
    const { generator, writer } = this;
    for (let i = 0; i < count; i++) {
      generator.next();
      writer.fill(generator.record.fillValues());
    }
    this.written += count;
    return count;
  }

  finish(): Uint8Array {
    this.add(this.remaining);
    return this.writer.finish();
  }
}

/** A whole file at once. */
export function generateFile(options: GenerateFileOptions): Uint8Array {
  return new FileGenerator(options).finish();
}
