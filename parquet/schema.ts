/**
 * The stage-1 Parquet layout: one row per selected event. Columns are
 * non-nullable; the particle matrix is one flat row-major list<float> (a
 * FixedSizeList is not needed: every row has the same length, recorded in the
 * file's key-value metadata).
 */
import { Field, Float32, Float64, Int64, List, Schema, Utf8 } from 'apache-arrow';

/** High-level features per event. */
export const HFEATURES = 14;
/** Features per particle row of lfeatures. */
export const PARTICLE_FEATURES = 19;
/** Key-value metadata entry holding the number of particle rows per event. */
export const PARTICLES_METADATA_KEY = 'topoflow.particles';

export const INGEST_COLUMNS = ['hfeatures', 'lfeatures', 'label', 'source_file', 'entry'] as const;
export type IngestColumnName = (typeof INGEST_COLUMNS)[number];

/** List elements are named `element`, as the Parquet LIST spec recommends (Arrow's default is `item`). */
const listOf = <T extends Float32 | Float64>(type: T): List<T> => new List(new Field('element', type, false));

export const HFEATURES_TYPE = listOf(new Float64());
export const LFEATURES_TYPE = listOf(new Float32());

export const INGEST_SCHEMA = new Schema([
  new Field('hfeatures', HFEATURES_TYPE, false),
  new Field('lfeatures', LFEATURES_TYPE, false),
  /** 0 QCD, 1 ttbar, 2 W+jets */
  new Field('label', new Int64(), false),
  new Field('source_file', new Utf8(), false),
  /** Entry number in the source file's TTree. */
  new Field('entry', new Int64(), false),
]);
