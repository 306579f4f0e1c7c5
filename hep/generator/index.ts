/**
 * Synthetic Delphes events for topoflow: QCD multijet (label 0), tt̄ (1) and
 * W+jets (2), each with a lepton filter; see docs/generator.md for the model.
 *
 *   generateFile({ sample: 'wjets', seed: 42, fileIndex: 0, events: 10000 })  // ROOT file bytes
 *   const g = new EventGenerator('ttbar', 42, 0); g.next(); g.record / g.truth  // one event at a time
 */
export { EventGenerator, SAMPLES, SAMPLE_MODELS } from './events.js';
export { DELPHES_SCHEMA, FileGenerator, generateFile, type GenerateFileOptions } from './file.js';
export { DELPHES_COLLECTIONS, EventRecord } from './record.js';
export type { SampleModel, SampleName } from './samples/model.js';
export { TruthEvent } from './truth.js';
