/**
 * Event-by-event generation for one file: the sample model (truth), then the
 * detector (Delphes collections). One independent random stream per
 * (seed, sample, file index), so files can be generated in any order or in
 * parallel and the same inputs always give the same events.
 */
import { DEFAULT_PILEUP, Detector } from './detector.js';
import { EventRecord } from './record.js';
import { Rng } from '../../common/rng.js';
import type { SampleModel, SampleName } from './samples/model.js';
import { qcd } from './samples/qcd.js';
import { ttbar } from './samples/ttbar.js';
import { wjets } from './samples/wjets.js';
import { TruthEvent } from './truth.js';

export const SAMPLE_MODELS: Record<SampleName, SampleModel> = { qcd, ttbar, wjets };
/** In label order. */
export const SAMPLES: readonly SampleName[] = ['qcd', 'ttbar', 'wjets'];

export class EventGenerator {
  /** The current event; overwritten by next(). */
  readonly record = new EventRecord();
  readonly truth = new TruthEvent();
  private readonly model: SampleModel;
  private readonly rng: Rng;
  private readonly detector: Detector;

  /** `pileup`: mean number of pile-up vertices (default 8; ~35 gives the 200–250 EFlow objects of a busy LHC event). */
  constructor(sample: SampleName, seed: number, fileIndex: number, pileup = DEFAULT_PILEUP) {
    this.model = SAMPLE_MODELS[sample];
    this.rng = new Rng(seed, this.model.label, fileIndex);
    this.detector = new Detector(this.rng, pileup);
  }

  next(): void {
    this.model.generate(this.rng, this.truth);
    this.detector.simulate(this.truth, this.record);
  }
}
