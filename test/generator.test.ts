/**
 * The synthetic event generator (hep/generator) and its `generate` stage kind:
 * determinism, physics sanity of the generated events, the ROOT files as
 * uproot reads them, and the stage's plan / shards / combine with a fake context.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventGenerator, generateFile, SAMPLES, type EventRecord, type SampleName } from '../hep/generator/index.js';
import { generate } from '../stages/builtin/generate.js';
import type { OutputWriter, Progress, StageContext } from '../stages/kind.js';
import type { OutputEntry } from '../protocol/manifest.js';
import type { Storage } from '../storage/storage.js';
import { python } from './support/python.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Runs `fn` on `n` events of a sample (generation only). */
function eachEvent(sample: SampleName, n: number, fn: (g: EventGenerator) => void, seed = 7): void {
  const g = new EventGenerator(sample, seed, 0);
  for (let i = 0; i < n; i++) {
    g.next();
    fn(g);
  }
}

const wrap = (d: number) => d - 2 * Math.PI * Math.floor((d + Math.PI) / (2 * Math.PI));

/** Stage 1's relative isolation of lepton l (tracks > 0.5, towers ET > 1, cone 0.3, own track removed). */
function isolation(rec: EventRecord, which: 'electron' | 'muon', l: number): number {
  const lep = rec[which].columns;
  const pt = lep.PT[l]!;
  const eta = lep.Eta[l]!;
  const phi = lep.Phi[l]!;
  let sum = 0;
  const cone = (e: number, p: number) => (e - eta) ** 2 + wrap(p - phi) ** 2 < 0.09;
  const t = rec.track.columns;
  for (let i = 0; i < rec.track.n; i++) if (t.PT[i]! > 0.5 && cone(t.Eta[i]!, t.Phi[i]!)) sum += t.PT[i]!;
  for (const towers of [rec.photon, rec.neutral]) {
    const c = towers.columns;
    for (let i = 0; i < towers.n; i++) if (c.ET[i]! > 1 && cone(c.Eta[i]!, c.Phi[i]!)) sum += c.ET[i]!;
  }
  return sum / pt - 1;
}

/** Index and flavour of the hardest lepton above 23 GeV, or null. */
function leadingLepton(rec: EventRecord): { which: 'electron' | 'muon'; index: number } | null {
  let best: { which: 'electron' | 'muon'; index: number; pt: number } | null = null;
  for (const which of ['electron', 'muon'] as const) {
    const c = rec[which].columns;
    for (let i = 0; i < rec[which].n; i++) if (c.PT[i]! > 23 && (!best || c.PT[i]! > best.pt)) best = { which, index: i, pt: c.PT[i]! };
  }
  return best;
}

describe('determinism', () => {
  test('same seed and options give byte-identical files; seed, sample and file index change them', () => {
    const base = { sample: 'ttbar' as const, seed: 42, fileIndex: 0, events: 300 };
    const a = generateFile(base);
    assert.equal(sha256(a), sha256(generateFile(base)));
    const variants = [
      generateFile({ ...base, seed: 43 }),
      generateFile({ ...base, fileIndex: 1 }),
      generateFile({ ...base, sample: 'wjets' }),
    ].map(sha256);
    assert.equal(new Set([sha256(a), ...variants]).size, 4);
  });

  test('files are independent streams: a file does not depend on how many events the previous one had', () => {
    const g1 = new EventGenerator('qcd', 5, 3);
    const g2 = new EventGenerator('qcd', 5, 3);
    for (let i = 0; i < 50; i++) {
      g1.next();
      g2.next();
      assert.deepEqual(g1.record.track.values().PT, g2.record.track.values().PT);
    }
  });
});

describe('physics sanity (generated events, before writing)', () => {
  test('W+jets: the true lepton–neutrino transverse mass has its Jacobian peak at m_W', () => {
    const bins = new Float64Array(200); // 1 GeV bins from 0 to 200
    let above = 0;
    const n = 20000;
    eachEvent('wjets', n, (g) => {
      assert.ok(g.truth.wPresent);
      const mt = g.truth.wTransverseMass();
      if (mt < 200) bins[Math.floor(mt)]!++;
      if (mt > 90) above++;
    });
    const peak = bins.indexOf(Math.max(...bins)) + 0.5;
    assert.ok(Math.abs(peak - 80.4) < 3, `MT peak at ${peak} GeV`);
    // The Jacobian edge: only the width and off-shell tail lie above ~m_W.
    assert.ok(above / n < 0.1, `${((100 * above) / n).toFixed(1)} % of events above 90 GeV`);
  });

  test('ttbar: several jets, two b-jets tagged at ~70 %, real missing ET', () => {
    let jets = 0;
    let fourJets = 0;
    let tags = 0;
    let anyTag = 0;
    let met = 0;
    const n = 5000;
    eachEvent('ttbar', n, (g) => {
      const j = g.record.jet;
      let nj = 0;
      let nb = 0;
      for (let i = 0; i < j.n; i++) {
        if (j.columns.PT[i]! > 30 && Math.abs(j.columns.Eta[i]!) < 2.6) {
          nj++;
          nb += j.columns.BTag[i]!;
        }
      }
      jets += nj;
      tags += nb;
      if (j.n >= 4) fourJets++;
      if (nb > 0) anyTag++;
      met += g.record.met.columns.MET[0]!;
    });
    assert.ok(jets / n > 2.3 && jets / n < 4, `mean jets (pT > 30) ${jets / n}`);
    assert.ok(fourJets / n > 0.5, `${fourJets / n} of events with >= 4 jets (pT > 20)`);
    assert.ok(tags / n > 0.9 && tags / n < 1.6, `mean b-tags ${tags / n}`);
    assert.ok(anyTag / n > 0.7, `${anyTag / n} of events with a b-tag`);
    assert.ok(met / n > 40, `mean MET ${met / n}`);
  });

  test('W+jets: few jets and rare b-tags', () => {
    let jets = 0;
    let tags = 0;
    const n = 5000;
    eachEvent('wjets', n, (g) => {
      jets += g.record.jet.n;
      for (let i = 0; i < g.record.jet.n; i++) tags += g.record.jet.columns.BTag[i]!;
    });
    assert.ok(jets / n < 1.2, `mean jets ${jets / n}`);
    assert.ok(tags / n < 0.05, `mean b-tags ${tags / n}`);
  });

  test('QCD: leptons are mostly not isolated (inside jets), W leptons mostly are', () => {
    const poorShare = (sample: SampleName) => {
      let leptons = 0;
      let poor = 0;
      eachEvent(sample, 4000, (g) => {
        const l = leadingLepton(g.record);
        if (!l) return;
        leptons++;
        if (isolation(g.record, l.which, l.index) >= 0.45) poor++;
      });
      return poor / leptons;
    };
    const qcd = poorShare('qcd');
    const w = poorShare('wjets');
    assert.ok(qcd > 0.5, `QCD: ${qcd} of leading leptons not isolated`);
    assert.ok(w < 0.02, `W+jets: ${w} of leading leptons not isolated`);
  });

  test('particles: counts in range, PDG codes and charges consistent, one MissingET, displaced tracks from b decays', () => {
    const displacedPerEvent: Record<string, number> = {};
    for (const sample of SAMPLES) {
      let particles = 0;
      let displaced = 0;
      const n = 1000;
      eachEvent(sample, n, (g) => {
        const r = g.record;
        assert.equal(r.met.n, 1);
        particles += r.track.n + r.photon.n + r.neutral.n;
        const t = r.track.columns;
        for (let i = 0; i < r.track.n; i++) {
          const pid = t.PID[i]!;
          const a = Math.abs(pid);
          assert.ok([211, 321, 2212, 11, 13].includes(a), `PID ${pid}`);
          assert.equal(t.Charge[i], (a === 11 || a === 13 ? -1 : 1) * Math.sign(pid));
          assert.ok(t.PT[i]! >= 0.2999 && Math.abs(t.Eta[i]!) <= 2.5, `track pT ${t.PT[i]} eta ${t.Eta[i]}`);
          if (Math.hypot(t.X[i]!, t.Y[i]!) > 0.1) displaced++;
        }
        for (const towers of [r.photon, r.neutral]) {
          for (let i = 0; i < towers.n; i++) assert.ok(towers.columns.E[i]! >= towers.columns.ET[i]! * 0.999 && Math.abs(towers.columns.Eta[i]!) < 3);
        }
      });
      const mean = particles / n;
      assert.ok(mean > 60 && mean < 400, `${sample}: ${mean} EFlow particles per event`);
      displacedPerEvent[sample] = displaced / n;
    }
    assert.ok(displacedPerEvent.ttbar! > 3 * displacedPerEvent.wjets!, JSON.stringify(displacedPerEvent));
  });
  test('pile-up option: busier events, same hard process', () => {
    const mean = (pileup: number | undefined) => {
      let n = 0;
      const g = new EventGenerator('wjets', 3, 0, pileup);
      for (let i = 0; i < 500; i++) {
        g.next();
        n += g.record.track.n + g.record.photon.n + g.record.neutral.n;
      }
      return n / 500;
    };
    const quiet = mean(undefined);
    const busy = mean(35);
    assert.ok(busy > 200 && busy - quiet > 100, `EFlow per event: default ${quiet}, pile-up 35: ${busy}`);
  });
});

describe('ROOT files', () => {
  test('uproot reads the Delphes tree with the right branches, types, entries and values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topoflow-gen-'));
    try {
      const opts = { sample: 'qcd' as const, seed: 11, fileIndex: 2, events: 200 };
      const path = join(dir, 'qcd_002.root');
      await writeFile(path, generateFile(opts));
      // What the generator made, summed per collection member, to compare with what uproot reads back.
      const expected: Record<string, number> = {};
      const g = new EventGenerator(opts.sample, opts.seed, opts.fileIndex);
      const names = { electron: 'Electron', muon: 'MuonTight', track: 'EFlowTrack', photon: 'EFlowPhoton', neutral: 'EFlowNeutralHadron', jet: 'Jet', met: 'MissingET' } as const;
      for (let e = 0; e < opts.events; e++) {
        g.next();
        for (const [field, branch] of Object.entries(names)) {
          const c = g.record[field as keyof typeof names];
          expected[`${branch}_size`] = (expected[`${branch}_size`] ?? 0) + c.n;
          for (const [member, values] of Object.entries(c.values())) {
            let s = 0;
            for (const v of values) s += Math.abs(v);
            expected[`${branch}.${member}`] = (expected[`${branch}.${member}`] ?? 0) + s;
          }
        }
      }
      const script = [
        'import json, sys, uproot, numpy as np',
        't = uproot.open(sys.argv[1])["Delphes"]',
        'out = {"entries": t.num_entries, "types": {k: b.typename for k, b in t.items()}, "sums": {}}',
        'for k in t.keys():',
        '    a = t[k].array(library="np")',
        '    flat = np.concatenate(a) if a.dtype == object else a',
        '    out["sums"][k] = float(np.abs(flat.astype(np.float64)).sum())',
        'print(json.dumps(out))',
      ].join('\n');
      const { stdout } = await promisify(execFile)(python(), ['-c', script, path], { maxBuffer: 1 << 26 });
      const got = JSON.parse(stdout) as { entries: number; types: Record<string, string>; sums: Record<string, number> };
      assert.equal(got.entries, opts.events);
      const want: Record<string, string> = {};
      const leptons = ['PT', 'Eta', 'Phi', 'T'];
      for (const c of ['Electron', 'MuonTight']) {
        for (const m of leptons) want[`${c}.${m}`] = 'float[]';
        want[`${c}.Charge`] = 'int32_t[]';
      }
      for (const m of ['PID', 'Charge']) want[`EFlowTrack.${m}`] = 'int32_t[]';
      for (const m of ['PT', 'Eta', 'Phi', 'X', 'Y', 'Z']) want[`EFlowTrack.${m}`] = 'float[]';
      for (const c of ['EFlowPhoton', 'EFlowNeutralHadron']) for (const m of ['ET', 'Eta', 'Phi', 'E']) want[`${c}.${m}`] = 'float[]';
      for (const m of ['PT', 'Eta', 'Phi', 'Mass']) want[`Jet.${m}`] = 'float[]';
      want['Jet.BTag'] = 'uint32_t[]';
      for (const m of ['MET', 'Eta', 'Phi']) want[`MissingET.${m}`] = 'float[]';
      for (const c of Object.values(names)) want[`${c}_size`] = 'int32_t';
      assert.deepEqual(got.types, want);
      for (const [k, v] of Object.entries(expected)) {
        assert.ok(Math.abs(got.sums[k]! - v) <= 1e-9 * Math.max(1, v), `${k}: uproot ${got.sums[k]} vs generated ${v}`);
      }
      assert.equal(got.sums['MissingET_size'], opts.events);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A stage context whose output writer keeps files in memory. */
function fakeContext(w: unknown, signal = new AbortController().signal) {
  const files = new Map<string, Uint8Array>();
  const progress: Progress[] = [];
  const output: OutputWriter = {
    async write(name, body, info) {
      assert.ok(body instanceof Uint8Array);
      files.set(name, body);
      const entry: OutputEntry = { name, key: `gen/${name}`, uri: `mem://gen/${name}`, bytes: body.length, sha256: sha256(body) };
      if (info?.rows !== undefined) entry.rows = info.rows;
      return entry;
    },
    keyFor: (name) => `gen/${name}`,
  };
  const ctx: StageContext<ReturnType<typeof generate.withSchema.parse>> = {
    stageId: 'gen',
    with: generate.withSchema.parse(w),
    inputs: {},
    storage: {} as Storage, // the kind never touches storage directly
    checkpointFolder: 'checkpoints/gen',
    output,
    progress: (p) => progress.push(p),
    signal,
    log: () => {},
  };
  return { ctx, files, progress };
}

describe('generate stage kind', () => {
  test('with: defaults, and bad values rejected', () => {
    const w = generate.withSchema.parse({ eventsPerSample: 10 });
    assert.deepEqual(w, { eventsPerSample: 10, eventsPerFile: 10000, samples: ['qcd', 'ttbar', 'wjets'], seed: 42, pileup: 8, window: 2 });
    for (const bad of [{}, { eventsPerSample: 0 }, { eventsPerSample: 5, samples: ['zjets'] }, { eventsPerSample: 5, samples: ['qcd', 'qcd'] }, { eventsPerSample: 5, eventsPerFile: 1.5 }, { eventsPerSample: 5, extra: 1 }]) {
      assert.equal(generate.withSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.equal(generate.window?.(w), 2);
  });

  test('plan: one shard per file, the last one short', async () => {
    const { ctx } = fakeContext({ eventsPerSample: 250, eventsPerFile: 100, samples: ['wjets', 'qcd'] });
    const shards = await generate.plan(ctx);
    assert.deepEqual(
      shards.map((s) => [s.name, s.events]),
      [['wjets/wjets_000.root', 100], ['wjets/wjets_001.root', 100], ['wjets/wjets_002.root', 50], ['qcd/qcd_000.root', 100], ['qcd/qcd_001.root', 100], ['qcd/qcd_002.root', 50]],
    );
  });

  test('runShard writes the same bytes as generateFile, with progress; combine lists the files', async () => {
    const { ctx, files, progress } = fakeContext({ eventsPerSample: 1500, eventsPerFile: 1200, samples: ['ttbar'], seed: 9 });
    const shards = await generate.plan(ctx);
    const results = [];
    for (const [index, shard] of shards.entries()) {
      const r = await generate.runShard(ctx, shard, index);
      results.push({ index, outputs: [], counts: r.counts ?? {}, summary: r.summary, worker: 'test' });
    }
    assert.deepEqual([...files.keys()], ['ttbar/ttbar_000.root', 'ttbar/ttbar_001.root']);
    assert.equal(sha256(files.get('ttbar/ttbar_001.root')!), sha256(generateFile({ sample: 'ttbar', seed: 9, fileIndex: 1, events: 300 })));
    const last = progress.filter((p) => p.total === 1200).at(-1);
    assert.deepEqual([last?.done, last?.unit], [1200, 'events']);
    assert.ok(progress.filter((p) => p.total === 1200).length >= 3, 'progress reported during the file');

    const combined = await generate.combine!(ctx, results.reverse());
    assert.deepEqual(combined, {
      counts: { events: 1500, files: 2 },
      summary: {
        files: [
          { name: 'ttbar/ttbar_000.root', sample: 'ttbar', label: 1, events: 1200 },
          { name: 'ttbar/ttbar_001.root', sample: 'ttbar', label: 1, events: 300 },
        ],
      },
    });
  });

  test('runShard stops when the stage is cancelled, writing nothing', async () => {
    const abort = new AbortController();
    const { ctx, files } = fakeContext({ eventsPerSample: 50000, eventsPerFile: 50000, samples: ['qcd'] }, abort.signal);
    const [shard] = await generate.plan(ctx);
    const running = generate.runShard(ctx, shard!, 0);
    setTimeout(() => abort.abort(new Error('cancelled by test')), 20);
    await assert.rejects(running, /cancelled by test/);
    assert.equal(files.size, 0);
  });
});
