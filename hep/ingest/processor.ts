/** Stage 1 for one event: selection, then the particle matrix and the high-level features. */
import type { DelphesEvent } from '../event.js';
import { validateIngestConfig, type IngestConfig } from './config.js';
import { highLevelFeatures } from './hlf.js';
import { IsolationMaps } from './isolation.js';
import { buildParticleMatrix } from './particles.js';
import { EventSelector, type RejectReason } from './selection.js';

export type IngestResult =
  | { selected: true; hfeatures: Float64Array; lfeatures: Float32Array }
  | { selected: false; reason: RejectReason };

/** Shared results for rejections: a rejected event allocates nothing. */
const REJECTED: Readonly<Record<RejectReason, IngestResult>> = Object.freeze({
  no_lepton: Object.freeze({ selected: false, reason: 'no_lepton' }),
  empty_maps: Object.freeze({ selected: false, reason: 'empty_maps' }),
  lepton_below_pt: Object.freeze({ selected: false, reason: 'lepton_below_pt' }),
  not_isolated: Object.freeze({ selected: false, reason: 'not_isolated' }),
});

/**
 * Reuses its map buffers across events, so one instance serves one event at a
 * time. A selected event's arrays are fresh and belong to the caller:
 * `lfeatures` is (1 + maxTracks + maxPhotons + maxNeutrals) × 19 row-major,
 * `hfeatures` the 14 HLF.
 */
export class IngestProcessor {
  private readonly cfg: IngestConfig;
  private readonly maps: IsolationMaps;
  private readonly selector: EventSelector;

  constructor(cfg: IngestConfig) {
    validateIngestConfig(cfg);
    this.cfg = { ...cfg };
    this.maps = new IsolationMaps(cfg.mode === 'fixed');
    this.selector = new EventSelector(this.cfg, this.maps);
  }

  process(ev: DelphesEvent): IngestResult {
    const reason = this.selector.select(ev);
    if (reason !== null) return REJECTED[reason];
    const lepton = this.selector.lepton;
    return {
      selected: true,
      hfeatures: highLevelFeatures(ev, lepton.row, this.cfg.mode),
      lfeatures: buildParticleMatrix(ev, this.maps, lepton, this.cfg),
    };
  }
}
