/**
 * Stage 3's parts without the engine: search spaces, successive halving's
 * rungs and promotions (the kind's own nextRound, on a synthetic case whose
 * answer is known), the stratified sample and folds, and the validation
 * errors of `topoflow validate` for tune and `tuned:` mistakes, with file:line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gridPoint, gridPoints, gridSize, randomPoints, fillHp, hpRefs } from '../ml/tuning/space.js';
import { promote, promotedCount, rungBudgets } from '../ml/tuning/halving.js';
import { stratifiedFolds, encodeSample, decodeSample, foldSplit } from '../ml/tuning/sample.js';
import { ranking, type TrialOutcome } from '../ml/tuning/results.js';
import { std } from '../ml/tuning/trial.js';
import { tune } from '../stages/builtin/tune.js';
import type { ShardResult } from '../stages/kind.js';
import { validatePipelinesFile } from '../config/load.js';
import { formatPath } from '../config/errors.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { KindRegistry } from '../stages/registry.js';
import { builtinKinds } from '../stages/index.js';

const SPACE = { nh1: [50, 100, 150], nh2: [20, 50, 100], nh3: [10, 20, 50], batchSize: [64, 100, 200], epochs: [10, 30, 50] };

describe('search spaces', () => {
  test('the grid is the product in key order, the last name fastest', () => {
    assert.equal(gridSize(SPACE), 243);
    const all = gridPoints(SPACE);
    assert.equal(new Set(all.map((p) => JSON.stringify(p))).size, 243);
    assert.deepEqual(all[0], { nh1: 50, nh2: 20, nh3: 10, batchSize: 64, epochs: 10 });
    assert.deepEqual(all[1], { nh1: 50, nh2: 20, nh3: 10, batchSize: 64, epochs: 30 });
    assert.deepEqual(gridPoint(SPACE, 242), { nh1: 150, nh2: 100, nh3: 50, batchSize: 200, epochs: 50 });
  });

  test('random search draws distinct grid points, the same for the same seed', () => {
    const a = randomPoints(SPACE, 20, 7);
    assert.equal(new Set(a.map((p) => JSON.stringify(p))).size, 20);
    assert.deepEqual(randomPoints(SPACE, 20, 7), a);
    assert.notDeepEqual(randomPoints(SPACE, 20, 8), a);
    assert.equal(randomPoints({ a: [1, 2] }, 5, 1).length, 2, 'never more than the grid');
  });

  test('placeholders are found and filled where they are, other strings stay', () => {
    const template = { input: 'hlf', layers: [{ dense: '${hp.nh1}', activation: 'relu' }, { dense: 3, activation: '${hp.act}' }], description: 'cost ${hp.x} and more' };
    assert.deepEqual(hpRefs(template), [{ name: 'nh1', path: ['layers', 0, 'dense'] }, { name: 'act', path: ['layers', 1, 'activation'] }]);
    assert.deepEqual(fillHp(template, { nh1: 64, act: 'softmax' }), { input: 'hlf', layers: [{ dense: 64, activation: 'relu' }, { dense: 3, activation: 'softmax' }], description: 'cost ${hp.x} and more' });
  });
});

describe('successive halving', () => {
  test('rungs: as many as the candidates and the epochs allow, the last at full epochs', () => {
    assert.deepEqual(rungBudgets(243, 50, { eta: 3, minEpochs: 1 }), [1, 3, 9, 50]);
    assert.deepEqual(rungBudgets(24, 20, { eta: 3, minEpochs: 2 }), [2, 6, 20]);
    assert.deepEqual(rungBudgets(2, 50, { eta: 3, minEpochs: 1 }), [50], 'too few candidates to halve');
    assert.deepEqual(rungBudgets(81, 4, { eta: 2, minEpochs: 1 }), [1, 2, 4]);
    assert.equal(promotedCount(243, 3), 81);
    assert.equal(promotedCount(2, 3), 1);
  });

  test('promotion keeps the best, NaN last, ties to the lower id', () => {
    const scored = [{ id: 0, score: 0.5 }, { id: 1, score: Number.NaN }, { id: 2, score: 0.9 }, { id: 3, score: 0.9 }, { id: 4, score: 0.1 }];
    assert.deepEqual(promote(scored, 3, true).map((s) => s.id), [2, 3, 0]);
    assert.deepEqual(promote(scored, 2, false).map((s) => s.id), [4, 0]);
  });

  test("the kind's rounds select the full grid's best on a synthetic case with a known answer", async () => {
    // Score rises with epochs toward a ceiling that peaks at nh1=100, nh2=50, batchSize=64; noise-free, so the answer is known.
    const ceiling = (p: Record<string, unknown>) => 0.99 - 1e-5 * ((p.nh1 as number) - 100) ** 2 - 2e-6 * ((p.nh2 as number) - 50) ** 2 - 1e-4 * Math.log2((p.batchSize as number) / 64);
    const score = (p: Record<string, unknown>, epochs: number) => ceiling(p) - 0.3 / epochs;
    const w = tune.withSchema.parse({
      model: { input: 'hlf', layers: [{ dense: '${hp.nh1}', activation: 'relu' }, { dense: '${hp.nh2}', activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
      space: { nh1: [50, 100, 150], nh2: [20, 50, 100], batchSize: [64, 100, 200], epochs: [10, 30, 50] },
      search: 'halving',
    });
    let shards = gridPoints(w.space).map((point, id) => ({ id, point, rung: 0, epochs: 1, sample: 'sample' }));
    const done: Array<{ shard: (typeof shards)[number]; result: ShardResult }> = [];
    const ctx = { stageId: 'tune', with: w, log: () => undefined } as unknown as Parameters<NonNullable<typeof tune.nextRound>>[0];
    for (let round = 0; shards.length; round++) {
      assert.ok(round < 10, 'halving ends');
      for (const shard of shards) {
        const s = score(shard.point, shard.epochs);
        const summary = { id: shard.id, rung: shard.rung, point: shard.point, epochs: shard.epochs, trialKey: 'k', folds: [{ auc: s, accuracy: s, loss: 1 - s, epochs: shard.epochs }], seconds: 0, reused: false };
        done.push({ shard, result: { index: done.length, outputs: [], counts: {}, worker: 'w', summary: summary } });
      }
      shards = await tune.nextRound!(ctx, done);
    }
    const rungs = [...new Set(done.map((d) => d.shard.rung))];
    assert.deepEqual(rungs, [0, 1, 2, 3], '81 candidates, epochs up to 50: four rungs');
    const last = done.filter((d) => d.shard.rung === 3);
    assert.equal(last.length, 3);
    assert.ok(last.every((d) => d.shard.epochs === d.shard.point.epochs), 'the last rung trains the candidates’ own epochs');
    assert.ok(done.filter((d) => d.shard.rung === 2).every((d) => d.shard.epochs === 9), 'rung 2 at 9 epochs');
    const trials = done.map((d) => d.result.summary as unknown as TrialOutcome);
    const halvingBest = ranking(trials, 'auc')[0]!;
    const gridBest = gridPoints(w.space).reduce((a, b) => (score(b, b.epochs as number) > score(a, a.epochs as number) ? b : a));
    assert.deepEqual(halvingBest.point, gridBest);
    const epochs = done.reduce((n, d) => n + d.shard.epochs, 0);
    const gridEpochs = gridPoints(w.space).reduce((n, p) => n + (p.epochs as number), 0);
    assert.ok(epochs < 0.2 * gridEpochs, `${epochs} trial-epochs instead of the grid's ${gridEpochs}`);
  });
});

describe('the tuning sample', () => {
  test('stratified: each class gives its fraction, dealt evenly over the folds; seeded', () => {
    const labels = Array.from({ length: 3000 }, (_, i) => (i < 2000 ? 0 : i < 2600 ? 1 : 2));
    const { positions, fold } = stratifiedFolds(labels, { fraction: 0.1, folds: 5, seed: 3 });
    const byClass = [0, 1, 2].map((c) => positions.filter((p) => labels[p] === c).length);
    assert.deepEqual(byClass, [200, 60, 40]);
    for (let f = 0; f < 5; f++) {
      const inFold = positions.filter((_, i) => fold[i] === f);
      assert.deepEqual([0, 1, 2].map((c) => inFold.filter((p) => labels[p] === c).length), [40, 12, 8], `fold ${f}`);
    }
    assert.ok(positions.every((p, i) => i === 0 || p > positions[i - 1]!), 'in stream order');
    assert.deepEqual(stratifiedFolds(labels, { fraction: 0.1, folds: 5, seed: 3 }).positions, positions);
    assert.notDeepEqual(stratifiedFolds(labels, { fraction: 0.1, folds: 5, seed: 4 }).positions, positions);
  });

  test('a sample survives encoding; folds split it', () => {
    const rows = Array.from({ length: 7 }, (_, i) => ({ label: i % 3, length: i, hlf: Float32Array.from({ length: 14 }, (_, j) => i + j / 100), particles: Float32Array.from({ length: 2 * 19 }, (_, j) => -i - j) }));
    const sample = { rows, fold: Int8Array.from([0, 1, 0, 1, 0, 1, 0]), folds: 2 };
    const back = decodeSample(encodeSample(sample));
    assert.deepEqual(back.fold, sample.fold);
    assert.deepEqual(back.rows.map((r) => [r.label, r.length, Array.from(r.hlf!), Array.from(r.particles!)]), rows.map((r) => [r.label, r.length, Array.from(r.hlf), Array.from(r.particles)]));
    const { train, test: held } = foldSplit(back, 1);
    assert.deepEqual([train.length, held.length], [4, 3]);
  });

  test('spread over folds is the sample standard deviation', () => assert.equal(std([1, 2, 3, 4]), Math.sqrt(5 / 3)));
});

describe('validation of tune stages and tuned:', () => {
  const vocabulary = configVocabulary(new KindRegistry(builtinKinds));
  const dir = mkdtempSync(join(tmpdir(), 'tune-validate-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const HEAD = `version: 1
models:
  search:
    input: hlf
    layers:
      - { dense: "\${hp.nh1}", activation: relu }
      - { dense: 3, activation: softmax }
pipelines:
  p:
    stages:
      features: { uses: noop }
`;
  const problems = (text: string) => {
    const result = validatePipelinesFile(file(`${Math.random().toString(36).slice(2)}.yaml`, HEAD + text), vocabulary);
    assert.equal(result.ok, false, 'rejected');
    return result.ok ? [] : result.issues.map((i) => ({ line: i.line, path: formatPath(i.path), message: i.message }));
  };

  test('a placeholder without a space entry, a space key that names nothing, an empty list, values of the wrong type', () => {
    const found = problems(`      tune:
        uses: tune
        needs: [features]
        with:
          model: search
          space:
            nh2: [1, 2]
            batchSize: [0, 64]
`);
    assert.deepEqual(found.map((f) => [f.line, f.path]), [
      [16, 'pipelines.p.stages.tune.with.model.layers[0].dense'],
      [18, 'pipelines.p.stages.tune.with.space.nh2'],
      [19, 'pipelines.p.stages.tune.with.space.batchSize[0]'],
    ], JSON.stringify(found));
    assert.match(found[0]!.message, /\$\{hp\.nh1\} has no entry in space/);
    assert.match(found[1]!.message, /"nh2" is neither a \$\{hp\.NAME\} placeholder of the model nor a train param; expected one of: nh1, epochs, batchSize/);
    assert.match(found[2]!.message, /0 is not a valid batchSize/);

    const more = problems(`      tune:
        uses: tune
        needs: [features]
        with:
          model: search
          space: { nh1: [8, "wide", 0], epochs: [] }
          search: random
`);
    assert.equal(more.length, 4, JSON.stringify(more));
    assert.ok(more.some((f) => f.path.endsWith('space.epochs') && /expected a list with >= 1 items, got a list \[\]/.test(f.message)), JSON.stringify(more));
    assert.ok(more.some((f) => f.path.endsWith('space.nh1[1]') && /"wide" does not fit \$\{hp\.nh1\}/.test(f.message)), JSON.stringify(more));
    assert.ok(more.some((f) => f.path.endsWith('space.nh1[2]') && /0 does not fit/.test(f.message)), JSON.stringify(more));
    assert.ok(more.some((f) => f.path.endsWith('with.trials') && /search: random needs trials/.test(f.message)), JSON.stringify(more));
    assert.ok(more.every((f) => f.line !== undefined), 'every problem has its line');
  });

  test('tuned: must name a tune stage among the needs', () => {
    const found = problems(`      t: { uses: train, needs: [features], with: { tuned: features } }
      u: { uses: train, needs: [features], with: { tuned: nosuch } }
`);
    assert.deepEqual(found.map((f) => [f.line, f.path]), [
      [12, 'pipelines.p.stages.t.with.tuned'],
      [13, 'pipelines.p.stages.u.with.tuned'],
    ], JSON.stringify(found));
    assert.match(found[0]!.message, /"features" is a "noop" stage; expected a "tune" stage/);
    assert.match(found[1]!.message, /"nosuch" is not among this stage's needs \(features\)/);
  });

  test('the shipped pipelines validate, and a train stage needs a model or tuned:', () => {
    assert.equal(validatePipelinesFile(join(process.cwd(), 'pipelines.yaml'), vocabulary).ok, true);
    const found = problems(`      t: { uses: train, needs: [features], with: { epochs: 3 } }
`);
    assert.match(found[0]!.message, /"model".*or `tuned: <a tune stage>`/);
  });
});
