/**
 * A stage's content hash is a function of its inputs and params only, not of
 * the process that ran it. A tiny generate → ingest → features → train ×2 →
 * evaluate pipeline (test/fixtures/reproducible/) runs twice, each time in a
 * fresh Node process against fresh storage; the second process builds other
 * models first, so tfjs's process-wide layer counters stand elsewhere. Both
 * runs must give every stage the same content hash, and the trained models the
 * same model.json bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { projectRoot } from '../infra/tools.js';
import { LocalStorage } from '../storage/index.js';
import { StageManifest } from '../protocol/manifest.js';
import type { RunPipelineArgs, RunPipelineResult } from './support/runPipeline.js';

const runner = join(projectRoot, 'dist', 'test', 'support', 'runPipeline.js');
const file = join(projectRoot, 'test', 'fixtures', 'reproducible', 'pipelines.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'topoflow-reproducible-'));

interface Run {
  dir: string;
  result: RunPipelineResult;
}
let fresh: Run;
let warmedUp: Run;

/** One run in a new Node process, on a storage root of its own. */
async function runInChild(name: string, warmUp: boolean): Promise<Run> {
  const dir = join(tmp, name);
  const args: RunPipelineArgs = { file, pipeline: 'tiny', root: pathToFileURL(dir).href, warmUp };
  const { stdout } = await promisify(execFile)(process.execPath, [runner, JSON.stringify(args)], { cwd: projectRoot, maxBuffer: 1 << 24, timeout: 120_000 });
  return { dir, result: JSON.parse(stdout.trim().split('\n').pop()!) as RunPipelineResult };
}

async function modelJson(run: Run, stage: string): Promise<string> {
  const storage = new LocalStorage(run.dir);
  const manifest = StageManifest.parse(JSON.parse(Buffer.from(await storage.get(run.result.stages[stage]!.manifestKey)).toString('utf8')));
  const entry = manifest.outputs.find((o) => o.name === 'model.json');
  assert.ok(entry, `stage ${stage} wrote a model.json`);
  return Buffer.from(await storage.get(entry.key)).toString('utf8');
}

before(async () => {
  fresh = await runInChild('fresh', false);
  warmedUp = await runInChild('warmed-up', true);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('a train stage run in two fresh processes, the second after other models were built in it, writes the same model.json', async () => {
  for (const stage of ['train-inclusive', 'train-lstm']) {
    const a = await modelJson(fresh, stage);
    assert.equal(await modelJson(warmedUp, stage), a, `${stage}: model.json`);
    assert.equal(warmedUp.result.stages[stage]!.contentHash, fresh.result.stages[stage]!.contentHash, `${stage}: content hash`);
  }
});

test('every stage of a pipeline run twice in fresh processes against fresh storage has the same content hash', () => {
  const hashes = (run: Run) => Object.fromEntries(Object.entries(run.result.stages).map(([id, s]) => [id, s.contentHash]));
  assert.deepEqual(Object.keys(fresh.result.stages), ['generate', 'ingest', 'features', 'train-inclusive', 'train-lstm', 'evaluate']);
  assert.deepEqual(hashes(warmedUp), hashes(fresh));
  assert.deepEqual(Object.values(warmedUp.result.stages).map((s) => s.key), Object.values(fresh.result.stages).map((s) => s.key), 'so every cache key is the same too');
});
