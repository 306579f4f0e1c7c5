/**
 * Micro-benchmark of the stage-1 physics alone (no reading): synthetic events
 * with ~150 tracks, 100 photons, 60 neutral hadrons, one isolated muon and 5
 * jets, processed in each mode. Prints events/s per mode.
 *
 *   node dist/bench/stage1Physics.js [--seconds 3]
 */
import { parseArgs } from 'node:util';
import type { DelphesEvent } from '../hep/event.js';
import { DEFAULT_INGEST, IngestProcessor, type IngestMode } from '../hep/ingest/index.js';
import { Rng } from '../common/rng.js';

const DISTINCT_EVENTS = 256;

/** A seeded uniform source (the generator's xoshiro128**). */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

function syntheticEvent(random: () => number): DelphesEvent {
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const softPt = (): number => 0.3 + -Math.log(1 - random()) * 3; // falling spectrum, some below the map cuts
  const lepton = { pt: 30 + uniform(0, 60), eta: uniform(-2.4, 2.4), phi: uniform(-Math.PI, Math.PI) };
  // Keep the other particles out of the lepton's cone so the event is selected and every particle gets a row.
  const direction = (maxEta: number): [number, number] => {
    for (;;) {
      const eta = uniform(-maxEta, maxEta);
      const phi = uniform(-Math.PI, Math.PI);
      let dphi = Math.abs(phi - lepton.phi);
      if (dphi > Math.PI) dphi = 2 * Math.PI - dphi;
      if ((eta - lepton.eta) ** 2 + dphi ** 2 > 0.09) return [eta, phi];
    }
  };
  const columns = (n: number, maxEta: number) => {
    const pt = new Float32Array(n);
    const eta = new Float32Array(n);
    const phi = new Float32Array(n);
    for (let i = 0; i < n; i++) [pt[i], [eta[i], phi[i]]] = [softPt(), direction(maxEta)];
    return { pt, eta, phi };
  };

  const tracks = columns(150, 2.5);
  // The muon's own track, which the particle list must skip.
  [tracks.pt[0], tracks.eta[0], tracks.phi[0]] = [lepton.pt, lepton.eta, lepton.phi];
  const pid = Int32Array.from({ length: 150 }, () => (random() < 0.5 ? 211 : -211));
  const photons = columns(100, 3);
  const neutrals = columns(60, 3);
  const noLepton = { pt: new Float32Array(0), eta: new Float32Array(0), phi: new Float32Array(0), charge: new Int32Array(0) };
  return {
    electron: noLepton,
    muon: { pt: Float32Array.of(lepton.pt), eta: Float32Array.of(lepton.eta), phi: Float32Array.of(lepton.phi), charge: Int32Array.of(-1) },
    track: {
      ...tracks,
      pid,
      charge: pid.map((p) => Math.sign(p)),
      x: Float32Array.from({ length: 150 }, () => uniform(-0.1, 0.1)),
      y: Float32Array.from({ length: 150 }, () => uniform(-0.1, 0.1)),
      z: Float32Array.from({ length: 150 }, () => uniform(-50, 50)),
    },
    photon: { et: photons.pt, eta: photons.eta, phi: photons.phi },
    neutral: { et: neutrals.pt, eta: neutrals.eta, phi: neutrals.phi },
    jet: {
      pt: Float32Array.from({ length: 5 }, () => uniform(20, 120)),
      eta: Float32Array.from({ length: 5 }, () => uniform(-3, 3)),
      phi: Float32Array.from({ length: 5 }, () => uniform(-Math.PI, Math.PI)),
      btag: Int32Array.from({ length: 5 }, () => (random() < 0.2 ? 1 : 0)),
    },
    met: { met: uniform(0, 80), phi: uniform(-Math.PI, Math.PI) },
  };
}

/** Processes the events round-robin for about `seconds`; returns events/s and the selected fraction. */
function measure(mode: IngestMode, events: DelphesEvent[], seconds: number): { perSecond: number; selected: number } {
  const processor = new IngestProcessor({ ...DEFAULT_INGEST, mode });
  for (const ev of events) processor.process(ev); // warm-up: let the JIT settle
  let processed = 0;
  let selected = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (const ev of events) if (processor.process(ev).selected) selected++;
    processed += events.length;
    elapsed = process.hrtime.bigint() - start;
  }
  return { perSecond: processed / (Number(elapsed) / 1e9), selected: selected / processed };
}

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const random = prng(20190417);
const events = Array.from({ length: DISTINCT_EVENTS }, () => syntheticEvent(random));
for (const mode of ['faithful', 'fixed'] as const) {
  const { perSecond, selected } = measure(mode, events, seconds);
  console.log(`stage1 physics, ${mode}: ${Math.round(perSecond)} events/s (1 core, ${(100 * selected).toFixed(0)} % selected)`);
}
