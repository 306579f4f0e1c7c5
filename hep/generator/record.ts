/**
 * One event in Delphes' collections, columnar (float32 like the file), reused
 * from event to event. `fillValues()` hands views of the filled prefix to the
 * TTree writer; they are only valid until the next event.
 */

type Column = Float32Array | Int32Array | Uint32Array;
type ColumnType = 'F' | 'I' | 'U';

/** A growable set of equal-length columns: one Delphes collection. */
export class Collection<Name extends string> {
  n = 0;
  readonly columns: Record<Name, Column>;
  private capacity: number;

  constructor(readonly types: Record<Name, ColumnType>, capacity: number) {
    this.columns = {} as Record<Name, Column>;
    for (const name of Object.keys(types) as Name[]) this.columns[name] = allocate(types[name], capacity);
    this.capacity = capacity;
  }

  /** Index of a new entry; the caller sets every column at it (through `columns`, read after this call). */
  add(): number {
    if (this.n === this.capacity) this.grow();
    return this.n++;
  }

  /** Views of the first n entries of every column. */
  values(): Record<Name, Column> {
    const out = {} as Record<Name, Column>;
    for (const name in this.columns) out[name] = this.columns[name].subarray(0, this.n);
    return out;
  }

  private grow(): void {
    this.capacity *= 2;
    for (const name in this.columns) {
      const next = allocate(this.types[name], this.capacity);
      next.set(this.columns[name]);
      this.columns[name] = next;
    }
  }
}

function allocate(type: ColumnType, capacity: number): Column {
  return type === 'F' ? new Float32Array(capacity) : type === 'I' ? new Int32Array(capacity) : new Uint32Array(capacity);
}

const LEPTON = { PT: 'F', Eta: 'F', Phi: 'F', T: 'F', Charge: 'I' } as const;
const TOWER = { ET: 'F', Eta: 'F', Phi: 'F', E: 'F' } as const;
const TRACK = { PID: 'I', Charge: 'I', PT: 'F', Eta: 'F', Phi: 'F', X: 'F', Y: 'F', Z: 'F' } as const;
const JET = { PT: 'F', Eta: 'F', Phi: 'F', Mass: 'F', BTag: 'U' } as const;
const MET = { MET: 'F', Eta: 'F', Phi: 'F' } as const;

export class EventRecord {
  readonly electron = new Collection(LEPTON, 8);
  readonly muon = new Collection(LEPTON, 8);
  readonly track = new Collection(TRACK, 512);
  readonly photon = new Collection(TOWER, 256);
  readonly neutral = new Collection(TOWER, 256);
  readonly jet = new Collection(JET, 32);
  readonly met = new Collection(MET, 1);

  reset(): void {
    this.electron.n = 0;
    this.muon.n = 0;
    this.track.n = 0;
    this.photon.n = 0;
    this.neutral.n = 0;
    this.jet.n = 0;
    this.met.n = 0;
  }

  /** The event as TreeWriter.fill takes it: collection name → member → values. */
  fillValues(): Record<string, Record<string, Column>> {
    return {
      Electron: this.electron.values(),
      MuonTight: this.muon.values(),
      EFlowTrack: this.track.values(),
      EFlowPhoton: this.photon.values(),
      EFlowNeutralHadron: this.neutral.values(),
      Jet: this.jet.values(),
      MissingET: this.met.values(),
    };
  }
}

/** Member lists and ROOT leaf types of the collections, for the TTree writer's schema. */
export const DELPHES_COLLECTIONS: { name: string; members: Record<string, ColumnType> }[] = [
  { name: 'Electron', members: LEPTON },
  { name: 'MuonTight', members: LEPTON },
  { name: 'EFlowTrack', members: TRACK },
  { name: 'EFlowPhoton', members: TOWER },
  { name: 'EFlowNeutralHadron', members: TOWER },
  { name: 'Jet', members: JET },
  { name: 'MissingET', members: MET },
];
