/**
 * Stage-1 physics (hep/stage1) against hand-computed expectations, one rule
 * of seed-pipeline.md §2 (and the faithful/fixed contract) at a time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DelphesEvent } from '../hep/event.js';
import { PARTICLE_FEATURES } from '../hep/layout.js';
import { COL, DEFAULT_INGEST, HLF, IngestProcessor, type IngestConfig, type IngestMode, type IngestResult } from '../hep/ingest/index.js';
import { IsolationMaps, pfIso } from '../hep/ingest/isolation.js';
import { deltaR, hasDirection, seedDeltaPhi, vectorEta, vectorPhi, vectorPt, wrapDeltaPhi, writeMasslessVector } from '../hep/ingest/kinematics.js';

const PI = Math.PI;

// ---- event builder -----------------------------------------------------

interface Lepton { pt: number; eta: number; phi: number; charge?: number }
interface Track { pt: number; eta: number; phi: number; pid?: number; charge?: number; x?: number; y?: number; z?: number }
interface Tower { et: number; eta: number; phi: number }
interface Jet { pt: number; eta: number; phi?: number; btag?: number }
interface EventSpec {
  electrons?: Lepton[];
  muons?: Lepton[];
  tracks?: Track[];
  photons?: Tower[];
  neutrals?: Tower[];
  jets?: Jet[];
  met?: { met: number; phi: number } | null;
}

function leptonColumns(leptons: Lepton[]): DelphesEvent['electron'] {
  return {
    pt: leptons.map((l) => l.pt),
    eta: leptons.map((l) => l.eta),
    phi: leptons.map((l) => l.phi),
    charge: leptons.map((l) => l.charge ?? -1),
  };
}

function towerColumns(towers: Tower[]): DelphesEvent['photon'] {
  return { et: towers.map((t) => t.et), eta: towers.map((t) => t.eta), phi: towers.map((t) => t.phi) };
}

function makeEvent(spec: EventSpec): DelphesEvent {
  const tracks = spec.tracks ?? [];
  const jets = spec.jets ?? [];
  return {
    electron: leptonColumns(spec.electrons ?? []),
    muon: leptonColumns(spec.muons ?? []),
    track: {
      pt: tracks.map((t) => t.pt),
      eta: tracks.map((t) => t.eta),
      phi: tracks.map((t) => t.phi),
      pid: tracks.map((t) => t.pid ?? 211),
      charge: tracks.map((t) => t.charge ?? 1),
      x: tracks.map((t) => t.x ?? 0),
      y: tracks.map((t) => t.y ?? 0),
      z: tracks.map((t) => t.z ?? 0),
    },
    photon: towerColumns(spec.photons ?? []),
    neutral: towerColumns(spec.neutrals ?? []),
    jet: { pt: jets.map((j) => j.pt), eta: jets.map((j) => j.eta), phi: jets.map((j) => j.phi ?? 0), btag: jets.map((j) => j.btag ?? 0) },
    met: spec.met === undefined ? { met: 0, phi: 0 } : spec.met,
  };
}

/** A lepton together with its own track (same direction and pT), as Delphes produces them. */
function withTrack(lepton: Lepton, pid: number): { lepton: Lepton; track: Track } {
  return { lepton, track: { pt: lepton.pt, eta: lepton.eta, phi: lepton.phi, pid, charge: lepton.charge ?? -1 } };
}

/** Something in every map, far (ΔR > 1) from anything the tests put near η = 0 ± 1. */
const FAR_PHOTON: Tower = { et: 2, eta: -2.2, phi: -2.2 };
const FAR_NEUTRAL: Tower = { et: 3, eta: 2.2, phi: 2.2 };

const SMALL_CAPS = { maxTracks: 2, maxPhotons: 1, maxNeutrals: 1 };

function config(mode: IngestMode, overrides: Partial<IngestConfig> = {}): IngestConfig {
  return { ...DEFAULT_INGEST, mode, ...overrides };
}

function run(mode: IngestMode, spec: EventSpec, overrides: Partial<IngestConfig> = {}): IngestResult {
  return new IngestProcessor(config(mode, overrides)).process(makeEvent(spec));
}

function selected(result: IngestResult): { hfeatures: Float64Array; lfeatures: Float32Array } {
  if (!result.selected) assert.fail(`expected the event to be selected, it was rejected: ${result.reason}`);
  return result;
}

function rejection(result: IngestResult): string {
  if (result.selected) assert.fail('expected the event to be rejected');
  return result.reason;
}

function row(lfeatures: Float32Array, index: number): number[] {
  return Array.from(lfeatures.subarray(index * PARTICLE_FEATURES, (index + 1) * PARTICLE_FEATURES));
}

/** |actual − expected| ≤ tol·max(1, |expected|), element-wise. */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** Float32 output against float64 expectations. */
const F32 = 1e-6;

// ---- kinematics --------------------------------------------------------

describe('kinematics', () => {
  test('massless vector: (pt, η, φ) → (E, Px, Py, Pz) with E = pT·cosh η', () => {
    const out = new Float64Array(4);
    // η = ln 2: sinh = (2 − ½)/2 = 0.75, cosh = (2 + ½)/2 = 1.25; pT 8 gives Pz 6, E 10.
    writeMasslessVector(out, 0, 8, Math.log(2), PI / 2);
    assertNear(out, [10, 0, 8, 6], 1e-14, 'pt 8, η ln2, φ π/2');
    // η = ln 3: sinh = 4/3, cosh = 5/3; pT 3 gives Pz 4, E 5; φ = π: Px = −3.
    writeMasslessVector(out, 0, 3, Math.log(3), PI);
    assertNear(out, [5, -3, 0, 4], 1e-14, 'pt 3, η ln3, φ π');
    // E = pT·cosh η at a generic point, and a negative pT is taken by magnitude (SetPtEtaPhiM).
    writeMasslessVector(out, 0, -2.5, -1.7, 0.4);
    assertNear(out, [2.5 * Math.cosh(1.7), 2.5 * Math.cos(0.4), 2.5 * Math.sin(0.4), -2.5 * Math.sinh(1.7)], 1e-14, 'pt −2.5');
  });

  test("the vector's Pt, Eta, Phi give back the inputs", () => {
    const out = new Float64Array(4);
    writeMasslessVector(out, 0, 40, -1.2, -2.9);
    assertNear([vectorPt(out[1]!, out[2]!), vectorEta(out[1]!, out[2]!, out[3]!), vectorPhi(out[1]!, out[2]!)], [40, -1.2, -2.9], 1e-14, 'round trip');
  });

  test('Δφ wrapped into [−π, π]; the seed wraps only beyond ±2π', () => {
    assertNear([wrapDeltaPhi(1.5 * PI), wrapDeltaPhi(-1.5 * PI), wrapDeltaPhi(0.5), wrapDeltaPhi(PI), wrapDeltaPhi(3.5 * PI), wrapDeltaPhi(-6.5 * PI)], [-0.5 * PI, 0.5 * PI, 0.5, PI, -0.5 * PI, -0.5 * PI], 1e-14, 'wrapDeltaPhi');
    assertNear([seedDeltaPhi(1.5 * PI), seedDeltaPhi(-1.5 * PI), seedDeltaPhi(2.5 * PI), seedDeltaPhi(-2.5 * PI)], [1.5 * PI, -1.5 * PI, 0.5 * PI, -0.5 * PI], 1e-14, 'seedDeltaPhi');
  });

  test('ΔR uses the wrapped Δφ', () => {
    // φ 3.0 and −3.0: raw Δφ 6.0, wrapped 6 − 2π.
    assertNear([deltaR(0, 3.0, 0, -3.0)], [2 * PI - 6], 1e-14, 'across ±π');
    assertNear([deltaR(0.3, 0, 0, 0.4)], [0.5], 1e-15, '3-4-5');
  });

  test('sentinel directions are recognised', () => {
    assert.equal(hasDirection(2.4, -3.1), true);
    assert.equal(hasDirection(100, 0), true);
    assert.equal(hasDirection(999.9, 0), false);
    assert.equal(hasDirection(-100.5, 0), false);
    assert.equal(hasDirection(Number.NaN, 0), false);
    assert.equal(hasDirection(Infinity, 0), false);
    assert.equal(hasDirection(0, Number.NaN), false);
    assert.equal(hasDirection(0, -Infinity), false);
  });
});

// ---- isolation ---------------------------------------------------------

function isolationOf(mode: IngestMode, spec: EventSpec, pt: number, eta: number, phi: number): number[] {
  const maps = new IsolationMaps(mode === 'fixed');
  maps.fill(makeEvent(spec));
  maps.index();
  maps.isolate(pt, eta, phi);
  return Array.from(maps.iso); // ChIso, GammaIso, NeuIso
}

describe('PFIso', () => {
  test('ratio, self-subtraction and non-positive pT', () => {
    assert.equal(pfIso(12, 10, true), 12 / 10 - 1);
    assert.equal(pfIso(5, 10, false), 0.5);
    assert.equal(pfIso(5, 0, true), 0);
    assert.equal(pfIso(5, -1, false), 0);
  });

  test('an isolated photon: charged iso −1 (the subtraction applies to every type), gamma iso includes itself', () => {
    const spec: EventSpec = { photons: [{ et: 10, eta: 0, phi: 0 }], tracks: [{ pt: 7, eta: 1, phi: 1 }] };
    for (const mode of ['fixed', 'faithful'] as const) {
      assertNear(isolationOf(mode, spec, 10, 0, 0), [-1, 1, 0], 1e-15, mode);
    }
  });

  test('map cuts: tracks PT > 0.5, towers ET > 1.0 (strict); the cone is Δη² + Δφ² < 0.3² (strict)', () => {
    const spec: EventSpec = {
      tracks: [
        { pt: 0.5, eta: 0, phi: 0.1 }, // at the cut: not in the map
        { pt: 0.6, eta: 0.1, phi: 0 }, // in the cone
        { pt: 9, eta: 0.3, phi: 0 }, // Δη exactly 0.3: Δη² = 0.09, not < 0.09
        { pt: 4, eta: 0, phi: -0.29 }, // in the cone
      ],
      photons: [{ et: 1.0, eta: 0, phi: 0 }, { et: 1.5, eta: -0.2, phi: 0.2 }], // 0.04 + 0.04 < 0.09
      neutrals: [{ et: 3, eta: 0.2, phi: 0.25 }], // 0.04 + 0.0625 > 0.09
    };
    // A particle of pT 2 at (0, 0): ChIso = (0.6 + 4)/2 − 1, GammaIso = 1.5/2, NeuIso = 0.
    assertNear(isolationOf('fixed', spec, 2, 0, 0), [4.6 / 2 - 1, 0.75, 0], 1e-15, 'cuts and cone');
  });

  test('a cone straddling φ = ±π: the fix wraps, the seed (2π threshold) does not', () => {
    const spec: EventSpec = { neutrals: [{ et: 4, eta: 0, phi: -3.1 }], photons: [{ et: 10, eta: 0.05, phi: 3.1 }] };
    // Particle of pT 10 at (0, 3.1): the neutral is 6.2 − 2π ≈ −0.083 away once wrapped, 6.2 raw.
    assertNear(isolationOf('fixed', spec, 10, 0, 3.1), [-1, 1, 0.4], 1e-15, 'fixed');
    assertNear(isolationOf('faithful', spec, 10, 0, 3.1), [-1, 1, 0], 1e-15, 'faithful');
  });

  test('the seed wraps once beyond ±2π (φ outside [−π, π])', () => {
    const spec: EventSpec = { neutrals: [{ et: 5, eta: 0, phi: -2.5 }, { et: 3, eta: 0, phi: -2.9 }] };
    // From φ = 4.0: Δφ = 6.5 > 2π → 6.5 − 2π ≈ 0.217, in the cone in both modes; Δφ = 6.9 → 0.617, out in both.
    assertNear(isolationOf('faithful', spec, 10, 0, 4.0), [-1, 0, 0.5], 1e-15, 'faithful, 6.5');
    assertNear(isolationOf('fixed', spec, 10, 0, 4.0), [-1, 0, 0.5], 1e-15, 'fixed, 6.5');
    // From φ = 3.3: Δφ to −2.9 is 6.2 < 2π, so the seed keeps it (out); the fix wraps it to ≈ −0.083 (in).
    assertNear(isolationOf('faithful', spec, 10, 0, 3.3), [-1, 0, 0], 1e-15, 'faithful, 6.2');
    assertNear(isolationOf('fixed', spec, 10, 0, 3.3), [-1, 0, 0.3], 1e-15, 'fixed, 6.2');
  });

  test('sentinel entries are not in the maps', () => {
    const spec: EventSpec = {
      tracks: [{ pt: 5, eta: 0.1, phi: Number.NaN }, { pt: 5, eta: 999.9, phi: 0 }],
      photons: [{ et: 5, eta: Infinity, phi: 0 }],
      neutrals: [{ et: 5, eta: 0.1, phi: Infinity }],
    };
    assertNear(isolationOf('fixed', spec, 10, 0.1, 0), [-1, 0, 0], 0, 'all ignored');
  });

  test('the grid index matches a brute-force cone sum on dense random maps (both modes, φ near ±π and outside)', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const uniform = (lo: number, hi: number): number => lo + (hi - lo) * random();
    const towers = (n: number): Tower[] =>
      Array.from({ length: n }, () => ({ et: uniform(0.5, 6), eta: uniform(-3, 3), phi: random() < 0.3 ? uniform(2.9, 3.3) * (random() < 0.5 ? -1 : 1) : uniform(-PI, PI) }));
    const tracks: Track[] = towers(300).map((t) => ({ pt: t.et, eta: t.eta, phi: t.phi }));
    const photons = towers(200);
    const neutrals = towers(100);
    const spec: EventSpec = { tracks, photons, neutrals };
    const bruteForce = (mode: IngestMode, entries: { pt: number; eta: number; phi: number }[], minPt: number, eta: number, phi: number): number => {
      let sum = 0;
      for (const e of entries) {
        if (!(e.pt > minPt)) continue;
        const raw = phi - e.phi;
        const dphi = mode === 'fixed' ? raw - 2 * PI * Math.round(raw / (2 * PI)) : raw > 2 * PI ? raw - 2 * PI : raw < -2 * PI ? raw + 2 * PI : raw;
        const deta = eta - e.eta;
        if (deta * deta + dphi * dphi < 0.09) sum += e.pt;
      }
      return sum;
    };
    const asEntries = (ts: Tower[]) => ts.map((t) => ({ pt: t.et, eta: t.eta, phi: t.phi }));
    for (const mode of ['fixed', 'faithful'] as const) {
      const maps = new IsolationMaps(mode === 'fixed');
      maps.fill(makeEvent(spec));
      maps.index();
      for (let k = 0; k < 500; k++) {
        const [pt, eta, phi] = [uniform(1, 50), uniform(-3.2, 3.2), k % 5 === 0 ? uniform(3.1, 3.4) * (k % 2 ? 1 : -1) : uniform(-PI, PI)];
        maps.isolate(pt, eta, phi);
        const expected = [
          bruteForce(mode, tracks, 0.5, eta, phi) / pt - 1,
          bruteForce(mode, asEntries(photons), 1, eta, phi) / pt,
          bruteForce(mode, asEntries(neutrals), 1, eta, phi) / pt,
        ];
        assertNear(maps.iso, expected, 1e-12, `${mode} query ${k} at (${eta}, ${phi})`);
      }
    }
  });
});

// ---- selection ---------------------------------------------------------

describe('event selection', () => {
  const muon = withTrack({ pt: 40, eta: 0, phi: 0 }, 13);
  const isolatedMuonEvent: EventSpec = { muons: [muon.lepton], tracks: [muon.track], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };

  test('no_lepton: both lepton branches empty', () => {
    const spec: EventSpec = { tracks: [{ pt: 50, eta: 0, phi: 0 }], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };
    for (const mode of ['fixed', 'faithful'] as const) assert.equal(rejection(run(mode, spec)), 'no_lepton', mode);
  });

  test('branch sizes count sentinel leptons: a lone sentinel electron is lepton_below_pt, not no_lepton', () => {
    const spec: EventSpec = { ...isolatedMuonEvent, muons: [], electrons: [{ pt: 100, eta: 999.9, phi: 0 }] };
    for (const mode of ['fixed', 'faithful'] as const) assert.equal(rejection(run(mode, spec)), 'lepton_below_pt', mode);
  });

  test('empty_maps: faithful only, and before lepton_below_pt', () => {
    const noPhotons: EventSpec = { ...isolatedMuonEvent, photons: [] };
    assert.equal(rejection(run('faithful', noPhotons)), 'empty_maps');
    selected(run('fixed', noPhotons));
    // A map holding only entries below its cut or with sentinel directions is empty too.
    const onlySentinelNeutral: EventSpec = { ...isolatedMuonEvent, neutrals: [{ et: 50, eta: 999.9, phi: 0 }, { et: 1.0, eta: 0, phi: 1 }] };
    assert.equal(rejection(run('faithful', onlySentinelNeutral)), 'empty_maps');
    const softMuonNoTracks: EventSpec = { ...isolatedMuonEvent, muons: [{ pt: 10, eta: 0, phi: 0 }], tracks: [] };
    assert.equal(rejection(run('faithful', softMuonNoTracks)), 'empty_maps');
    assert.equal(rejection(run('fixed', softMuonNoTracks)), 'lepton_below_pt');
  });

  test('lepton_below_pt: PT must be strictly above the cut; sentinel leptons do not count', () => {
    const atCut: EventSpec = { ...isolatedMuonEvent, muons: [{ pt: 23, eta: 0, phi: 0 }], electrons: [{ pt: 80, eta: 0.5, phi: Number.NaN }] };
    for (const mode of ['fixed', 'faithful'] as const) assert.equal(rejection(run(mode, atCut)), 'lepton_below_pt', mode);
    // Above a lower cut the muon counts; the 40 GeV track beside it makes ChIso = 40/23 − 1 ≈ 0.74.
    assert.equal(rejection(run('fixed', atCut, { ptCut: 22.9 })), 'not_isolated');
  });

  test('not_isolated: a lepton passes pT but none has iso sum < isoCut (strict)', () => {
    // NeuIso = 18/40 = 0.45 exactly, ChIso = 40/40 − 1 = 0: the sum equals the cut.
    const atIsoCut: EventSpec = { ...isolatedMuonEvent, neutrals: [{ et: 18, eta: 0.1, phi: 0.1 }] };
    for (const mode of ['fixed', 'faithful'] as const) assert.equal(rejection(run(mode, atIsoCut)), 'not_isolated', mode);
    const h = selected(run('fixed', { ...isolatedMuonEvent, neutrals: [{ et: 17.9, eta: 0.1, phi: 0.1 }] })).hfeatures;
    assertNear([h[HLF.LEP_ISO_NEU]!, h[HLF.LEP_ISO_CH]!], [17.9 / 40, 0], 1e-15, 'just below the cut');
    // A soft muon and a hard but non-isolated electron: not_isolated, since a lepton passed pT.
    const ele = withTrack({ pt: 30, eta: 1, phi: 1 }, 11);
    const mixed: EventSpec = { muons: [{ pt: 10, eta: 0, phi: 0 }], electrons: [ele.lepton], tracks: [ele.track, { pt: 20, eta: 1.1, phi: 1 }], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };
    for (const mode of ['fixed', 'faithful'] as const) assert.equal(rejection(run(mode, mixed)), 'not_isolated', mode);
  });

  test('the φ = ±π cone decides selection: the seed misses a neutral across the boundary', () => {
    const m = withTrack({ pt: 40, eta: 0, phi: PI - 0.05 }, 13);
    const spec: EventSpec = { muons: [m.lepton], tracks: [m.track], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL, { et: 20, eta: 0, phi: -PI + 0.05 }] };
    // Wrapped Δφ 0.1: NeuIso = 20/40 = 0.5 ≥ 0.45. Unwrapped Δφ ≈ 2π − 0.1: NeuIso 0.
    assert.equal(rejection(run('fixed', spec)), 'not_isolated');
    const h = selected(run('faithful', spec)).hfeatures;
    assert.equal(h[HLF.LEP_ISO_NEU], 0);
  });

  describe('lepton choice', () => {
    // Each muon with its own track; the first is not isolated (a 35 GeV neutral next to it).
    const hard = withTrack({ pt: 70, eta: -1, phi: -1, charge: 1 }, -13);
    const first = withTrack({ pt: 30, eta: 0, phi: 0, charge: -1 }, 13);
    const highest = withTrack({ pt: 60, eta: 1, phi: 2, charge: 1 }, -13);
    const spec: EventSpec = {
      muons: [hard.lepton, first.lepton, highest.lepton],
      tracks: [hard.track, first.track, highest.track],
      photons: [FAR_PHOTON],
      neutrals: [FAR_NEUTRAL, { et: 35, eta: -1.1, phi: -1 }],
    };

    test('faithful: the first passing lepton in branch order', () => {
      const h = selected(run('faithful', spec)).hfeatures;
      assertNear([h[HLF.LEP_PT]!, h[HLF.LEP_CHARGE]!, h[HLF.LEP_IS_ELE]!], [30, -1, 0], 1e-14, 'first');
    });

    test('fixed: the highest-pT passing lepton', () => {
      const h = selected(run('fixed', spec)).hfeatures;
      assertNear([h[HLF.LEP_PT]!, h[HLF.LEP_CHARGE]!, h[HLF.LEP_IS_ELE]!], [60, 1, 0], 1e-14, 'highest');
      // Equal pT within a flavour: the first in branch order.
      const twin = withTrack({ ...highest.lepton, eta: -0.5, phi: -2, charge: -1 }, 13);
      const tied: EventSpec = { ...spec, muons: [...spec.muons!, twin.lepton], tracks: [...spec.tracks!, twin.track] };
      assert.equal(selected(run('fixed', tied)).hfeatures[HLF.LEP_CHARGE], 1);
    });

    const ele = withTrack({ pt: 40, eta: 1.0, phi: 0 }, 11);
    const mu = withTrack({ pt: 80, eta: 0.5, phi: 2.0 }, 13);
    const both: EventSpec = { electrons: [ele.lepton], muons: [mu.lepton], tracks: [ele.track, mu.track], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };

    test('faithful: electron iff its Eta is larger (the index-5 bug)', () => {
      const h = selected(run('faithful', both)).hfeatures;
      assertNear([h[HLF.LEP_IS_ELE]!, h[HLF.LEP_PT]!, h[HLF.LEP_ETA]!], [1, 40, 1.0], 1e-14, 'η 1.0 > 0.5');
      const swapped: EventSpec = { ...both, electrons: [{ ...ele.lepton, eta: 0.5 }], muons: [{ ...mu.lepton, eta: 0.5 }], tracks: [{ ...ele.track, eta: 0.5 }, { ...mu.track, eta: 0.5 }] };
      assert.equal(selected(run('faithful', swapped)).hfeatures[HLF.LEP_IS_ELE], 0, 'equal Eta: the muon');
    });

    test('fixed: the higher pT, ties to the electron', () => {
      const h = selected(run('fixed', both)).hfeatures;
      assertNear([h[HLF.LEP_IS_ELE]!, h[HLF.LEP_PT]!], [0, 80], 1e-14, 'pT 80 > 40');
      const tie: EventSpec = { ...both, muons: [{ ...mu.lepton, pt: 40 }], tracks: [ele.track, { ...mu.track, pt: 40 }] };
      assert.equal(selected(run('fixed', tie)).hfeatures[HLF.LEP_IS_ELE], 1, 'equal pT: the electron');
    });

    test('a sentinel lepton is never chosen', () => {
      const withSentinel: EventSpec = { ...both, electrons: [ele.lepton, { pt: 200, eta: 999.9, phi: 0 }] };
      assert.equal(selected(run('fixed', withSentinel)).hfeatures[HLF.LEP_PT], 80);
    });
  });
});

// ---- particle matrix -----------------------------------------------------

describe('particle matrix', () => {
  const mu = withTrack({ pt: 40, eta: 0.5, phi: 1.0, charge: -1 }, 13);
  const spec: EventSpec = {
    muons: [mu.lepton],
    tracks: [mu.track, { pt: 2, eta: 0.6, phi: 1.0, pid: -211, charge: -1, x: 0.01, y: -0.02, z: 3.5 }],
    photons: [{ et: 4, eta: -1.0, phi: -2.0 }],
    neutrals: [{ et: 5, eta: 2.0, phi: 2.5 }],
    met: { met: 50, phi: 1.0 - PI / 2 },
  };

  test('shape: (1 + 450 + 150 + 200) × 19 with the seed caps', () => {
    assert.equal(selected(run('fixed', spec)).lfeatures.length, 801 * 19);
  });

  test('row contents: lepton, track, photon, neutral, then zeros (both modes)', () => {
    for (const mode of ['fixed', 'faithful'] as const) {
      const l = selected(run(mode, spec)).lfeatures;
      // Muon: ChIso = (40 + 2)/40 − 1 (its own track and the 2 GeV one at ΔR 0.1).
      const lepton = [40 * Math.cosh(0.5), 40 * Math.cos(1), 40 * Math.sin(1), 40 * Math.sinh(0.5), 40, 0.5, 1.0, 0, 0, 0, 0.05, 0, 0, 0, 0, 0, 0, 1, -1];
      assertNear(row(l, 0), lepton, F32, `${mode} lepton`);
      // The 2 GeV track (the muon's own is skipped): ChIso = (2 + 40)/2 − 1 = 20.
      const track = [2 * Math.cosh(0.6), 2 * Math.cos(1), 2 * Math.sin(1), 2 * Math.sinh(0.6), 2, 0.6, 1.0, 0.01, -0.02, 3.5, 20, 0, 0, 1, 0, 0, 0, 0, -1];
      assertNear(row(l, 1), track, F32, `${mode} track`);
      const photon = [4 * Math.cosh(1), 4 * Math.cos(2), -4 * Math.sin(2), -4 * Math.sinh(1), 4, -1, -2, 0, 0, 0, -1, 1, 0, 0, 0, 1, 0, 0, 0];
      assertNear(row(l, 2), photon, F32, `${mode} photon`);
      const neutral = [5 * Math.cosh(2), 5 * Math.cos(2.5), 5 * Math.sin(2.5), 5 * Math.sinh(2), 5, 2, 2.5, 0, 0, 0, -1, 0, 1, 0, 1, 0, 0, 0, 0];
      assertNear(row(l, 3), neutral, F32, `${mode} neutral`);
      assert.ok(l.subarray(4 * PARTICLE_FEATURES).every((v) => v === 0), `${mode}: rows 4.. are zero`);
    }
  });

  test('track charge: sign(PID) when faithful, Charge when fixed', () => {
    const tracks: Track[] = [
      mu.track,
      { pt: 3, eta: -1, phi: -1, pid: 11, charge: -1 }, // e−: PID +11
      { pt: 3, eta: -1.5, phi: 2, pid: -13, charge: 1 }, // μ+: PID −13
      { pt: 3, eta: 1.5, phi: -2, pid: 211, charge: 1 },
    ];
    const charges = (mode: IngestMode): number[] => [1, 2, 3].map((r) => row(selected(run(mode, { ...spec, tracks })).lfeatures, r)[COL.CHARGE]!);
    assert.deepEqual(charges('faithful'), [1, -1, 1]);
    assert.deepEqual(charges('fixed'), [-1, 1, 1]);
  });

  test('the track at the lepton (ΔR ≤ 1e-4, wrapped Δφ in both modes) is skipped; one at 2e-4 is kept', () => {
    const m = withTrack({ pt: 40, eta: 0, phi: PI - 3e-5 }, 13);
    const tracks: Track[] = [
      { pt: 40, eta: 0, phi: -PI + 3e-5 }, // ΔR = 6e-5 across ±π
      { pt: 7, eta: 2e-4, phi: PI - 3e-5 }, // ΔR = 2e-4
    ];
    for (const mode of ['fixed', 'faithful'] as const) {
      const l = selected(run(mode, { ...spec, muons: [m.lepton], tracks })).lfeatures;
      assertNear([row(l, 1)[COL.PT]!, row(l, 2)[COL.IS_GAMMA]!], [7, 1], 0, `${mode}: one track row, then the photon`);
    }
  });

  test('caps: skip when full, in branch order, counting only particles that get a row; blocks packed', () => {
    const m = withTrack({ pt: 50, eta: 0, phi: 0, charge: 1 }, -13);
    const capped: EventSpec = {
      muons: [m.lepton],
      tracks: [
        { pt: 0.4, eta: 1, phi: 1 }, // below the cut: no slot
        m.track, // the lepton's own: no slot
        { pt: 3, eta: -1, phi: 2 },
        { pt: 4, eta: 999.9, phi: 0 }, // sentinel: no slot
        { pt: 5, eta: 1.5, phi: -2 },
        { pt: 6, eta: -1.5, phi: -1 }, // full
      ],
      photons: [{ et: 1.0, eta: 2, phi: 2 }, { et: 2, eta: -2, phi: 0.5 }, { et: 3, eta: 2, phi: -0.5 }],
      neutrals: [{ et: 7, eta: 0.5, phi: 3 }, { et: 8, eta: -0.5, phi: -3 }],
    };
    for (const mode of ['fixed', 'faithful'] as const) {
      const l = selected(run(mode, capped, SMALL_CAPS)).lfeatures;
      assert.equal(l.length, 5 * PARTICLE_FEATURES);
      const pts = [0, 1, 2, 3, 4].map((r) => row(l, r)[COL.PT]!);
      assert.deepEqual(pts, [50, 3, 5, 2, 7], mode);
      const oneHot = [1, 2, 3, 4].map((r) => row(l, r).slice(COL.IS_CH_HAD, COL.IS_MU + 1));
      assert.deepEqual(oneHot, [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0]], mode);
    }
  });

  test('padding: unused slots become zero rows at the end, after the packed blocks', () => {
    const m = withTrack({ pt: 50, eta: 0, phi: 0 }, 13);
    const sparse: EventSpec = { muons: [m.lepton], tracks: [m.track, { pt: 3, eta: -1, phi: 2 }], photons: [{ et: 2, eta: -2, phi: 0.5 }], neutrals: [{ et: 7, eta: 0.5, phi: 3 }] };
    const l = selected(run('fixed', sparse, SMALL_CAPS)).lfeatures;
    assert.deepEqual([1, 2, 3].map((r) => row(l, r)[COL.PT]), [3, 2, 7]);
    assert.deepEqual(row(l, 4), new Array<number>(PARTICLE_FEATURES).fill(0));
    assert.ok(Object.is(row(l, 4)[0], 0), 'positive zero');
  });

  test('sentinel particles get no row and do not isolate anything', () => {
    const m = withTrack({ pt: 40, eta: 0, phi: 0 }, 13);
    const withSentinels: EventSpec = {
      muons: [m.lepton],
      tracks: [m.track, { pt: 10, eta: 0.1, phi: Number.NaN }, { pt: 10, eta: 999.9, phi: 0 }],
      photons: [{ et: 20, eta: Infinity, phi: 0 }, FAR_PHOTON],
      neutrals: [{ et: 5, eta: 0.05, phi: -Infinity }, FAR_NEUTRAL],
    };
    const { lfeatures: l, hfeatures: h } = selected(run('fixed', withSentinels));
    assertNear([h[HLF.LEP_ISO_CH]!, h[HLF.LEP_ISO_GAMMA]!, h[HLF.LEP_ISO_NEU]!], [0, 0, 0], 0, 'lepton isolation');
    assert.deepEqual([1, 2, 3].map((r) => row(l, r)[COL.PT]), [2, 3, 0], 'rows: far photon, far neutral, padding');
  });
});

// ---- high-level features -------------------------------------------------

describe('high-level features', () => {
  const mu = withTrack({ pt: 40, eta: 0.5, phi: 1.0, charge: -1 }, 13);
  const base: EventSpec = { muons: [mu.lepton], tracks: [mu.track], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };

  test('all 14 in order; MT without sqrt when faithful, with it when fixed', () => {
    const jets: Jet[] = [
      { pt: 30, eta: 0, btag: 1 }, // PT exactly 30: out
      { pt: 30.5, eta: 2.6, btag: 1 }, // |Eta| exactly 2.6: out
      { pt: 40, eta: -2.59, btag: 1 },
      { pt: 50, eta: 0.3, btag: 0 },
      { pt: 60, eta: -2.6 }, // out
      { pt: 100, eta: 0.1, phi: Number.NaN, btag: 1 }, // sentinel: out
    ];
    // φ_lep − φ_MET = π/3: MT² = 2·50·40·(1 − ½) = 2000.
    const spec: EventSpec = { ...base, jets, met: { met: 50, phi: 1.0 - PI / 3 } };
    const common = [90, 50, 1.0 - PI / 3, 0, 2, 1, 40, 0.5, 1.0, 0, 0, 0, -1, 0];
    const faithful = [...common];
    faithful[HLF.MT] = 2000;
    const fixed = [...common];
    fixed[HLF.MT] = Math.sqrt(2000);
    assertNear(selected(run('faithful', spec)).hfeatures, faithful, 1e-12, 'faithful');
    assertNear(selected(run('fixed', spec)).hfeatures, fixed, 1e-12, 'fixed');
  });

  test('BTag > 0 counts as b-tagged; MissingET empty gives MET = PhiMET = MT = 0', () => {
    const jets: Jet[] = [{ pt: 35, eta: 1, btag: 2 }, { pt: 45, eta: -1, btag: 0 }, { pt: 55, eta: 2, btag: -1 }];
    const h = selected(run('fixed', { ...base, jets, met: null })).hfeatures;
    assertNear([h[HLF.HT]!, h[HLF.N_JETS]!, h[HLF.N_BJETS]!, h[HLF.MET]!, h[HLF.PHI_MET]!, h[HLF.MT]!], [135, 3, 1, 0, 0, 0], 0, 'jets and empty MET');
  });

  test('LepIsEle and the lepton values come from the chosen electron', () => {
    const e = withTrack({ pt: 35, eta: -0.7, phi: -2.0, charge: 1 }, -11);
    const spec: EventSpec = { electrons: [e.lepton], tracks: [e.track, { pt: 3.5, eta: -0.8, phi: -2.0 }], photons: [FAR_PHOTON, { et: 7, eta: -0.7, phi: -2.1 }], neutrals: [FAR_NEUTRAL] };
    const h = selected(run('faithful', spec)).hfeatures;
    // ChIso = (35 + 3.5)/35 − 1 = 0.1, GammaIso = 7/35 = 0.2.
    assertNear(h.subarray(HLF.LEP_PT), [35, -0.7, -2.0, 0.1, 0.2, 0, 1, 1], 1e-12, 'electron');
  });
});

// ---- config and results ---------------------------------------------------

describe('config and results', () => {
  test('defaults: the seed cuts and caps, mode fixed', () => {
    assert.deepEqual({ ...DEFAULT_INGEST }, { mode: 'fixed', ptCut: 23, isoCut: 0.45, maxTracks: 450, maxPhotons: 150, maxNeutrals: 200 });
  });

  test('bad configs are refused', () => {
    assert.throws(() => new IngestProcessor(config('fixed', { maxTracks: -1 })), RangeError);
    assert.throws(() => new IngestProcessor(config('fixed', { maxPhotons: 1.5 })), RangeError);
    assert.throws(() => new IngestProcessor(config('fixed', { ptCut: Number.NaN })), RangeError);
    assert.throws(() => new IngestProcessor({ ...DEFAULT_INGEST, mode: 'buggy' as IngestMode }), RangeError);
  });

  test('every selected event gets fresh arrays; the processor is reusable across events', () => {
    const mu = withTrack({ pt: 40, eta: 0, phi: 0 }, 13);
    const spec: EventSpec = { muons: [mu.lepton], tracks: [mu.track], photons: [FAR_PHOTON], neutrals: [FAR_NEUTRAL] };
    const processor = new IngestProcessor(config('fixed'));
    const a = selected(processor.process(makeEvent(spec)));
    assert.equal(rejection(processor.process(makeEvent({ tracks: [mu.track] }))), 'no_lepton');
    const b = selected(processor.process(makeEvent({ ...spec, muons: [{ ...mu.lepton, pt: 45 }], tracks: [{ ...mu.track, pt: 45 }] })));
    assert.notEqual(a.lfeatures, b.lfeatures);
    assert.notEqual(a.hfeatures, b.hfeatures);
    assert.deepEqual([a.hfeatures[HLF.LEP_PT], b.hfeatures[HLF.LEP_PT]], [40, 45]);
  });
});
