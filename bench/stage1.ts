/**
 * Stage-1 throughput: the TypeScript ingest (jsroot read + selection + features
 * + Parquet) vs the Python reference (uproot + numpy + pyarrow) on the same
 * generated files, one core each, same run.
 *
 *   node dist/bench/stage1.js [--events-per-sample 5000] [--mode fixed]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFile, SAMPLES } from '../hep/generator/index.js';
import { openRootFile } from '../root/read/index.js';
import { readDelphesEvents } from '../hep/delphes.js';
import { ingestRootFile } from '../hep/ingest/rootFile.js';
import { DEFAULT_INGEST, type IngestMode } from '../hep/ingest/index.js';
import { collectBytes } from '../parquet/index.js';
import { projectRoot } from '../infra/tools.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const eventsPerSample = Number(arg('--events-per-sample', '5000'));
const mode = arg('--mode', 'fixed') as IngestMode;
const dir = mkdtempSync(join(tmpdir(), 'topoflow-bench-stage1-'));
const python = execFileSync('bash', [join(projectRoot, 'infra', 'python.sh')], { encoding: 'utf8' }).trim();

try {
  const files = SAMPLES.map((sample, i) => {
    const path = join(dir, `${sample}.root`);
    writeFileSync(path, generateFile({ sample, seed: 2026, fileIndex: i, events: eventsPerSample }));
    return path;
  });
  const total = eventsPerSample * files.length;

  // Mean particles per event (EFlow tracks + photons + neutral hadrons), for context.
  let particles = 0;
  for (const f of files) {
    await readDelphesEvents(await openRootFile({ path: f }), (_e, ev) => {
      particles += ev.track.pt.length + ev.photon.et.length + ev.neutral.et.length;
    });
  }

  const config = { ...DEFAULT_INGEST, mode };
  const t0 = performance.now();
  let selected = 0;
  for (const [i, f] of files.entries()) {
    const r = await ingestRootFile(await openRootFile({ path: f }), { config, label: i, sourceFile: f });
    writeFileSync(join(dir, `ts-${i}.parquet`), await collectBytes(r.parquet));
    selected += r.selected;
  }
  const tsSecs = (performance.now() - t0) / 1000;

  const p0 = performance.now();
  execFileSync(python, [join(projectRoot, 'test', 'reference', 'stage1.py'), '--mode', mode, '--out', join(dir, 'ref.parquet'), '--counts', join(dir, 'ref.json'), ...files], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pySecs = (performance.now() - p0) / 1000;

  const mb = files.reduce((s, f) => s + statSync(f).size, 0) / 1e6;
  console.log(`\n${total} events (${files.length} files, ${mb.toFixed(1)} MB ROOT), mean ${(particles / total).toFixed(0)} EFlow particles/event, mode ${mode}, caps 450/150/200, ${selected} selected\n`);
  console.log('| implementation (1 core) | seconds | events/s/core | vs Python | vs seed Spark (12 ev/s/core) |\n|---|---:|---:|---:|---:|');
  for (const [name, secs] of [['topoflow (TypeScript, jsroot + parquet-wasm)', tsSecs], ['Python reference (uproot + numpy + pyarrow), incl. interpreter start', pySecs]] as const) {
    const rate = total / secs;
    console.log(`| ${name} | ${secs.toFixed(2)} | ${rate.toFixed(0)} | ${(rate / (total / pySecs)).toFixed(2)}x | ${(rate / 12).toFixed(0)}x |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
