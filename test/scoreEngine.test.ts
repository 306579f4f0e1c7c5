/**
 * The `score` stage on the engine: a real Temporal dev server, a CPU worker
 * and a `train`-queue worker, local storage. A model is trained, then scored
 * (1) on its own stage-1 output: on the test events its class scores equal the
 * train stage's own test-set predictions, and `selected` is the working
 * point's cut, computed here independently; (2) on a fresh sample (another
 * generator seed): the selection counts add up; (3) in a second run, as a
 * model stored by the first, named by its manifest: the same scores. Then the
 * layout checks on the first run's real manifests: other caps, another
 * padding mode, another stage-1 mode are errors naming both layouts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStorage, type Storage } from '../storage/index.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import type { StageManifest } from '../protocol/manifest.js';
import type { StorageSpec } from '../storage/spec.js';
import { Harness } from './support/harness.js';
import { readScores } from '../ml/scoresParquet.js';
import { readFeaturesParquet } from '../hep/features/index.js';
import { workingPoints } from '../ml/workingPoint.js';
import { score, type ScoreWith } from '../stages/builtin/score.js';
import type { Selection } from '../ml/selection.js';

const h = new Harness();
let local: StorageSpec;
let store: Storage;

const caps = { maxTracks: 30, maxPhotons: 10, maxNeutrals: 10 };
const model = { name: 'inclusive', branches: { particles: [{ masking: 0 }, { gru: 16 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 16, activation: 'relu' }, { dense: 3, activation: 'softmax' }] };
const workingPoint = { signal: 'ttbar', efficiency: 0.95 };

const pipeline: Exclude<PipelineRunInput['pipeline'], string> = {
  name: 'scoring',
  stages: {
    gen: { uses: 'generate', with: { eventsPerSample: 1500, eventsPerFile: 750, seed: 11 } },
    ingest: { uses: 'ingest', needs: ['gen'], with: caps },
    features: { uses: 'features', needs: ['ingest'], with: { seed: 3 } },
    train: { uses: 'train', needs: ['features'], with: { model, epochs: 2, batchSize: 64, seed: 9 } },
    evaluate: { uses: 'evaluate', needs: ['train'], with: { png: false } },
    'score-same': { uses: 'score', needs: ['train', 'ingest'], with: { workingPoint, batchSize: 100 } },
    'gen-fresh': { uses: 'generate', with: { eventsPerSample: 1500, eventsPerFile: 1500, seed: 12 } },
    'ingest-fresh': { uses: 'ingest', needs: ['gen-fresh'], with: caps },
    'score-fresh': { uses: 'score', needs: ['train', 'ingest-fresh'], with: { workingPoint } },
    // The same model on dataset-wide particle scaling: scoring must apply the training run's particle scale.
    'features-ds': { uses: 'features', needs: ['ingest'], with: { seed: 3, particleScaling: 'dataset' } },
    'train-ds': { uses: 'train', needs: ['features-ds'], with: { model, epochs: 1, batchSize: 64, seed: 9 } },
    'score-ds': { uses: 'score', needs: ['train-ds', 'ingest'], with: { workingPoint, batchSize: 100 } },
  },
};

async function manifestOf(result: RunResult, stage: string): Promise<StageManifest> {
  const key = result.stages[stage]!.manifestUri!.slice(local.root.length + 1);
  return JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as StageManifest;
}
const entry = (m: StageManifest, name: string) => m.outputs.find((o) => o.name === name)!;
const json = async <T>(m: StageManifest, name: string) => JSON.parse(Buffer.from(await store.get(entry(m, name).key)).toString('utf8')) as T;

/** Every scored event of a score stage, by `source_file#entry`. */
async function scoredEvents(m: StageManifest) {
  const out = new Map<string, { scores: number[]; label: number; selected: boolean }>();
  for (const o of m.outputs.filter((x) => x.name.startsWith('scores-'))) {
    const s = await readScores(await store.get(o.key));
    s.label.forEach((label, i) => out.set(`${s.sourceFile[i]}#${s.entry[i]}`, { scores: Array.from(s.scores.subarray(i * 3, i * 3 + 3)), label, selected: s.selected[i] === 1 }));
  }
  return out;
}

before(async () => {
  local = { root: pathToFileURL(join(h.tmp, 'store')).href };
  store = openStorage(local);
  await h.start();
  await h.startWorker(['--queues', 'topoflow']);
  await h.startWorker(['--queues', 'train', '--slots', '1']);
});
after(async () => {
  await h.stop();
});

describe('score on the engine', () => {
  let first: RunResult;
  before(async () => {
    first = await h.result(await h.run({ pipeline, storage: local }));
    assert.equal(first.status, 'completed', JSON.stringify(first.stages, null, 1));
  });

  /** The score stage's scores of the training run's test events equal the train stage's test-set predictions. */
  async function assertScoresAreTrainPredictions(trainStage: string, featuresStage: string, scoreStage: string) {
    const train = await manifestOf(first, trainStage);
    const predictions = new Float32Array(new Uint8Array(await store.get(entry(train, 'predictions.bin').key)).buffer);
    const labels = new Int8Array(new Uint8Array(await store.get(entry(train, 'labels.bin').key)).buffer);
    const scored = await scoredEvents(await manifestOf(first, scoreStage));
    const ingest = await manifestOf(first, 'ingest');
    assert.equal(scored.size, ingest.outputs.reduce((s, o) => s + (o.rows ?? 0), 0), 'every stage-1 event is scored once');

    // The test parts in file order are the rows of predictions.bin.
    const features = await manifestOf(first, featuresStage);
    let row = 0;
    let worst = 0;
    for (const part of features.outputs.filter((o) => o.name.includes('test-')).sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const cols = await readFeaturesParquet(await store.get(part.key));
      for (let i = 0; i < cols.rows; i++, row++) {
        const mine = scored.get(`${cols.sourceFile[i]}#${cols.entry[i]}`);
        assert.ok(mine, `test event ${cols.sourceFile[i]}#${cols.entry[i]} was scored`);
        assert.equal(mine.label, labels[row]);
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(mine.scores[c]! - predictions[row * 3 + c]!));
      }
    }
    assert.equal(row, labels.length);
    assert.ok(worst < 1e-5, `${scoreStage}: scores equal ${trainStage}'s predictions (largest difference ${worst})`);
    return { predictions, labels, scored };
  }

  test('on the training run\'s own events: the test events get the train stage\'s test-set predictions; selected is the cut', async () => {
    const { predictions, labels, scored } = await assertScoresAreTrainPredictions('train', 'features', 'score-same');

    const expected = workingPoints(predictions, labels, 3, 1, [0.95])[0]!;
    const selection = await json<Selection>(await manifestOf(first, 'score-same'), 'selection.json');
    assert.equal(selection.threshold, expected.threshold, 'the cut is the test set\'s 95 % ttbar working point');
    assert.deepEqual(selection.expected.fpr, expected.fpr);
    for (const [id, e] of scored) assert.equal(e.selected, e.scores[1]! >= expected.threshold, `selected flag of ${id}`);
  });

  test('with dataset-wide particle scaling: scoring applies the training run\'s fitted particle scale', async () => {
    await assertScoresAreTrainPredictions('train-ds', 'features-ds', 'score-ds');
  });

  test('on a fresh sample: the selection counts, efficiency and rejection against the prediction; the summary', async () => {
    const m = await manifestOf(first, 'score-fresh');
    const scored = await scoredEvents(m);
    const fresh = await manifestOf(first, 'ingest-fresh');
    assert.equal(m.counts.events, fresh.outputs.reduce((s, o) => s + (o.rows ?? 0), 0));
    const selection = await json<Selection>(m, 'selection.json');
    const ttbar = [...scored.values()].filter((e) => e.label === 1);
    const rest = [...scored.values()].filter((e) => e.label !== 1);
    assert.equal(selection.measured.efficiency, ttbar.filter((e) => e.selected).length / ttbar.length);
    assert.equal(selection.measured.fpr, rest.filter((e) => e.selected).length / rest.length);
    assert.equal(m.counts.selected, [...scored.values()].filter((e) => e.selected).length);
    assert.match(m.report ?? '', /cut at 95 % ttbar efficiency .*: \d+ events scored, \d+ selected/);
    assert.match(m.report ?? '', /\| test set \(evaluate's prediction\) \| \d+ \| [\d.]+ ± [\d.]+ % \|/);
    assert.match(m.report ?? '', /Events\/s per worker \((?:wasm|tensorflow|cpu)\): \S+: \d+/);
    assert.equal(entry(m, 'timing.json').volatile, true, 'timings stay out of the content hash');
  });

  test('a model stored by an earlier run, named by its manifest, scores the same', async () => {
    const trainKey = first.stages.train!.manifestUri!.slice(local.root.length + 1);
    const second = await h.result(await h.run({
      pipeline: {
        name: 'rescore',
        stages: {
          'gen-fresh': pipeline.stages['gen-fresh']!,
          'ingest-fresh': pipeline.stages['ingest-fresh']!,
          score: { uses: 'score', needs: ['ingest-fresh'], with: { trained: first.stages.train!.manifestUri!, workingPoint } },
        },
      },
      storage: local,
    })).catch((err: Error & { cause?: Error }) => assert.fail(`${err.message}: ${err.cause?.message ?? ''}`));
    assert.equal(second.status, 'completed', JSON.stringify(second.stages, null, 1));
    const shas = (m: StageManifest) => m.outputs.filter((o) => o.name.startsWith('scores-')).map((o) => o.sha256);
    assert.deepEqual(shas(await manifestOf(second, 'score')), shas(await manifestOf(first, 'score-fresh')));
    assert.ok(trainKey.startsWith('cache/train/'));
  });

  test('layout mismatches are errors naming both layouts', async () => {
    const train = await manifestOf(first, 'train');
    const fresh = await manifestOf(first, 'ingest-fresh');
    const plan = (w: Partial<ScoreWith>, data: StageManifest) =>
      score.plan({
        stageId: 'score-x',
        with: score.withSchema.parse({ workingPoint, ...w }),
        inputs: { train, [data.stageId]: data },
        storage: store,
        progress: () => {},
        log: () => {},
        checkpointFolder: 'checkpoints/x',
        signal: new AbortController().signal,
      });
    const otherCaps = { ...fresh, with: { ...fresh.with, maxTracks: 150, maxPhotons: 50, maxNeutrals: 50 } };
    await assert.rejects(plan({}, otherCaps), /train stage "train" was trained on 51 particle rows \(caps 30\/10\/10\), padding masked, stage-1 mode fixed; ingest stage "ingest-fresh" has 251 particle rows \(caps 150\/50\/50\), padding masked, stage-1 mode fixed: the particle rows differ/);
    await assert.rejects(plan({ padding: 'faithful' }, fresh), /trained on .*padding masked.*; ingest stage "ingest-fresh" has .*padding faithful.*: the padding mode differ/);
    await assert.rejects(plan({}, { ...fresh, with: { ...fresh.with, mode: 'faithful' } }), /stage-1 mode fixed; ingest stage "ingest-fresh" has .*stage-1 mode faithful: the stage-1 mode differ/);
    await assert.rejects(plan({ trained: 'cache/train/nope/manifest.json' }, fresh), /with\.trained "cache\/train\/nope\/manifest\.json" is neither a stage among its needs nor a readable manifest/);
    const shards = await plan({}, fresh);
    assert.equal(shards.length, fresh.outputs.filter((o) => o.name.endsWith('.parquet')).length, 'the same inputs plan one shard per stage-1 part');
  });
});
