/**
 * Stage 1 against an independent reference: the Python implementation in
 * test/reference/stage1.py (uproot + numpy, written from the specification,
 * not from the TypeScript) must produce the same rows, event by event, on the
 * same files, in both modes.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../infra/tools.js';
import { openRootFile } from '../root/read/index.js';
import { ingestRootFile } from '../hep/ingest/rootFile.js';
import { DEFAULT_INGEST, type IngestMode } from '../hep/ingest/index.js';
import { generateFile } from '../hep/generator/index.js';
import { collectBytes } from '../parquet/index.js';
import { python } from './support/python.js';

const ref = (script: string) => join(projectRoot, 'test', 'reference', script);
const dir = mkdtempSync(join(tmpdir(), 'topoflow-stage1-'));

interface RefCounts { file: string; read: number; selected: number; rejected: Record<string, number> }

/** Runs both implementations on `file` and returns the comparison report. */
async function compare(file: string, mode: IngestMode, label: number, caps = DEFAULT_INGEST) {
  const tag = `${file.split('/').pop()}-${mode}`;
  const tsOut = join(dir, `${tag}-ts.parquet`);
  const refOut = join(dir, `${tag}-ref.parquet`);
  const refCounts = join(dir, `${tag}-ref.json`);
  const root = await openRootFile({ path: file });
  const ts = await ingestRootFile(root, { config: { ...caps, mode }, label, sourceFile: file });
  writeFileSync(tsOut, await collectBytes(ts.parquet));
  execFileSync(python(), [ref('stage1.py'), '--mode', mode, '--label', String(label),
    '--max-tracks', String(caps.maxTracks), '--max-photons', String(caps.maxPhotons), '--max-neutrals', String(caps.maxNeutrals),
    '--out', refOut, '--counts', refCounts, file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cmp = spawnSync(python(), [ref('compare_stage1.py'), tsOut, refOut, '--rtol', '1e-5', '--atol', '1e-6'], { encoding: 'utf8' });
  const report = JSON.parse(cmp.stdout) as { rows_a: number; rows_b: number; value_mismatches: number; max_rel_diff: number; first_mismatches: unknown[] };
  const [counts] = JSON.parse(readFileSync(refCounts, 'utf8')) as RefCounts[];
  return { exit: cmp.status, report, ts, counts: counts! };
}

describe('stage 1 matches the independent Python reference, event by event', () => {
  let edgeCases: string;
  const generated: Record<string, string> = {};
  before(() => {
    edgeCases = join(dir, 'edge-cases.root');
    execFileSync(python(), [ref('make_delphes_like.py'), '--out', edgeCases, '--events', '2000', '--seed', '7'], { stdio: 'ignore' });
    for (const [sample, label] of [['qcd', 0], ['ttbar', 1], ['wjets', 2]] as const) {
      generated[sample] = join(dir, `${sample}.root`);
      writeFileSync(generated[sample], generateFile({ sample, seed: 11, fileIndex: label, events: 1500 }));
    }
  });

  for (const mode of ['faithful', 'fixed'] as const) {
    test(`edge-case file (uproot-written), ${mode} mode`, async () => {
      const { exit, report, ts, counts } = await compare(edgeCases, mode, 1);
      assert.equal(report.value_mismatches, 0, JSON.stringify(report.first_mismatches));
      assert.equal(report.rows_a, report.rows_b);
      assert.equal(exit, 0, JSON.stringify(report));
      assert.ok(ts.selected > 100 && ts.read === 2000);
      assert.equal(ts.read, counts.read);
      assert.deepEqual(ts.rejected, counts.rejected, 'rejections by reason');
    });

    test(`generated QCD, ttbar and W+jets files (topoflow's writer), ${mode} mode, demo caps`, async () => {
      const caps = { ...DEFAULT_INGEST, maxTracks: 120, maxPhotons: 40, maxNeutrals: 40 };
      for (const [sample, file] of Object.entries(generated)) {
        const { exit, report, ts, counts } = await compare(file, mode, sample === 'qcd' ? 0 : sample === 'ttbar' ? 1 : 2, caps);
        assert.equal(exit, 0, `${sample}: ${JSON.stringify(report)}`);
        assert.ok(ts.selected > 0, `${sample}: some events selected`);
        assert.deepEqual(ts.rejected, counts.rejected, `${sample}: rejections by reason`);
      }
    });
  }
});
