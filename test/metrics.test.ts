/**
 * ml/metrics.ts: hand-computed ROC/AUC cases, the error cases, downsampling,
 * and agreement with scikit-learn (roc_curve, roc_auc_score, confusion_matrix)
 * on random scores with many ties.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  accuracy,
  argmaxRows,
  auc,
  confusionMatrix,
  downsampleIndices,
  downsampleRoc,
  oneVsRest,
  precisionRecall,
  rocAuc,
  rocCurve,
} from '../ml/metrics.js';
import { python } from './support/python.js';
import { Rng } from '../common/rng.js';

const flags = (labels: number[]) => labels.map((l) => l === 1);
const INF = Number.POSITIVE_INFINITY;

/** The project's seeded generator, so the sklearn comparison is reproducible. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('rocCurve and rocAuc, hand-computed', () => {
  test('the classic four-sample example', () => {
    const scores = [0.1, 0.4, 0.35, 0.8];
    const pos = flags([0, 0, 1, 1]);
    assert.deepEqual(rocCurve(scores, pos), {
      fpr: [0, 0, 0.5, 0.5, 1],
      tpr: [0, 0.5, 0.5, 1, 1],
      thresholds: [INF, 0.8, 0.4, 0.35, 0.1],
    });
    assert.equal(rocAuc(scores, pos), 0.75);
    const c = rocCurve(scores, pos);
    assert.equal(auc(c.fpr, c.tpr), 0.75);
  });

  test('perfect and reversed rankings', () => {
    const scores = [0.9, 0.8, 0.3, 0.2, 0.1];
    assert.equal(rocAuc(scores, flags([1, 1, 0, 0, 0])), 1);
    assert.equal(rocAuc(scores, flags([0, 0, 1, 1, 1])), 0);
  });

  test('all scores tied: one point, AUC exactly 1/2', () => {
    const scores = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
    const pos = flags([1, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual(rocCurve(scores, pos), { fpr: [0, 1], tpr: [0, 1], thresholds: [INF, 0.3] });
    assert.equal(rocAuc(scores, pos), 0.5);
  });

  test('partial ties count 1/2 per tied pair', () => {
    // Positives at 0.9 and 0.7; negatives at 0.7, 0.7, 0.2.
    // Pairs: 0.9 beats all three (3); 0.7 ties two (2 × 1/2) and beats 0.2 (1) → 5 of 6.
    const scores = [0.9, 0.7, 0.7, 0.7, 0.2];
    const pos = flags([1, 1, 0, 0, 0]);
    assert.deepEqual(rocCurve(scores, pos), {
      fpr: [0, 0, 2 / 3, 1],
      tpr: [0, 0.5, 1, 1],
      thresholds: [INF, 0.9, 0.7, 0.2],
    });
    assert.equal(rocAuc(scores, pos), 5 / 6);
  });

  test('equals the pairwise count (Mann-Whitney U, ties 1/2) exactly on small tied inputs', () => {
    const r = rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = 2 + Math.floor(r() * 30);
      const scores = Array.from({ length: n }, () => Math.floor(r() * 5) / 4);
      const pos = Array.from({ length: n }, (_, i) => (i < 2 ? i === 0 : r() < 0.5));
      let doubled = 0;
      let pairs = 0;
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          if (!pos[a]! || pos[b]!) continue;
          pairs++;
          doubled += scores[a]! > scores[b]! ? 2 : scores[a] === scores[b] ? 1 : 0;
        }
      }
      assert.equal(rocAuc(scores, pos), doubled / (2 * pairs), `trial ${trial}`);
    }
  });

  test('positives as a predicate on the index; input order does not matter', () => {
    const scores = [0.35, 0.8, 0.1, 0.4];
    const labels = [1, 1, 0, 0];
    assert.equal(rocAuc(scores, (i) => labels[i] === 1), 0.75);
    assert.equal(rocAuc(new Float32Array([0.25, 0.75]), [false, true]), 1);
  });

  test('dropIntermediate keeps only the corners', () => {
    const c = rocCurve([0.9, 0.8, 0.7, 0.6], flags([1, 1, 0, 0]), { dropIntermediate: true });
    assert.deepEqual(c, { fpr: [0, 0, 0, 1], tpr: [0, 0.5, 1, 1], thresholds: [INF, 0.9, 0.8, 0.6] });
  });
});

describe('rocCurve and rocAuc, errors', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['no positives', () => rocAuc([0.1, 0.2], [false, false]), /no positive samples/],
    ['no negatives', () => rocCurve([0.1, 0.2], [true, true]), /no negative samples/],
    ['no samples at all', () => rocAuc([], []), /no positive samples/],
    ['lengths differ', () => rocAuc([0.1, 0.2, 0.3], [true, false]), /3 scores but 2/],
    ['NaN score', () => rocCurve([0.1, Number.NaN], [true, false]), /index 1 is NaN/],
    ['infinite score', () => rocAuc([INF, 0.2], [true, false]), /index 0 is Infinity/],
  ];
  for (const [name, fn, message] of cases) {
    test(name, () => assert.throws(fn, (e: unknown) => e instanceof RangeError && message.test(e.message)));
  }

  test('auc needs monotonic x and matching lengths', () => {
    assert.throws(() => auc([0, 1, 0.5], [0, 1, 1]), RangeError);
    assert.throws(() => auc([0, 1], [0]), RangeError);
    assert.throws(() => auc([0], [0]), RangeError);
    assert.equal(auc([1, 0.5, 0], [1, 1, 0]), 0.75); // decreasing x integrates the same way
  });
});

describe('downsampling', () => {
  const r = rng(7);
  const n = 50_000;
  const scores = Array.from({ length: n }, () => r());
  const pos = scores.map((s) => r() < 0.3 + 0.4 * s);
  const full = rocCurve(scores, pos);

  test('at most maxPoints, both ends kept, thresholds follow their points', () => {
    const small = downsampleRoc(full, 500);
    assert.ok(full.fpr.length > 10_000);
    assert.ok(small.fpr.length <= 500 && small.fpr.length > 250, `${small.fpr.length} points`);
    assert.deepEqual([small.fpr[0], small.tpr[0], small.thresholds[0]], [0, 0, INF]);
    assert.deepEqual([small.fpr.at(-1), small.tpr.at(-1)], [1, 1]);
    for (let i = 0; i < small.fpr.length; i++) {
      const j = full.thresholds.indexOf(small.thresholds[i]!);
      assert.equal(full.fpr[j], small.fpr[i]);
      assert.equal(full.tpr[j], small.tpr[i]);
    }
    assert.ok(Math.abs(auc(small.fpr, small.tpr) - rocAuc(scores, pos)) < 1e-3);
  });

  test('every dropped point lies within Δ = length / (maxPoints - 2) of a kept one', () => {
    const maxPoints = 300;
    const keep = downsampleIndices(full.fpr, full.tpr, maxPoints);
    let length = 0;
    for (let i = 1; i < full.fpr.length; i++) length += Math.hypot(full.fpr[i]! - full.fpr[i - 1]!, full.tpr[i]! - full.tpr[i - 1]!);
    const delta = length / (maxPoints - 2);
    assert.ok(keep.length <= maxPoints);
    let k = 0;
    for (let i = 0; i < full.fpr.length; i++) {
      while (k + 1 < keep.length && keep[k + 1]! <= i) k++;
      const j = keep[k]!;
      assert.ok(Math.hypot(full.fpr[i]! - full.fpr[j]!, full.tpr[i]! - full.tpr[j]!) < delta, `point ${i}`);
    }
  });

  test('short curves are returned whole; bad maxPoints throws', () => {
    assert.deepEqual(downsampleIndices([0, 0.5, 1], [0, 1, 1], 3), [0, 1, 2]);
    assert.throws(() => downsampleIndices([0, 1], [0, 1], 2), RangeError);
  });

  test('oneVsRest keeps the full-curve AUC when curves are downsampled', () => {
    const k = 2;
    const probs = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      probs[i * k] = 1 - scores[i]!;
      probs[i * k + 1] = scores[i]!;
    }
    const labels = pos.map((p) => (p ? 1 : 0));
    const thin = oneVsRest(probs, labels, k, { maxPoints: 200 });
    const whole = oneVsRest(probs, labels, k);
    assert.ok(thin[1]!.roc.fpr.length <= 200);
    assert.equal(thin[1]!.auc, whole[1]!.auc);
    assert.equal(whole[1]!.auc, rocAuc(Array.from(probs.filter((_, i) => i % 2 === 1)), pos));
  });
});

describe('accuracy and confusion matrix', () => {
  test('hand-computed', () => {
    const truth = [0, 0, 1, 1, 2, 2, 2];
    const predicted = [0, 1, 1, 1, 2, 0, 2];
    assert.equal(accuracy(truth, predicted), 5 / 7);
    const m = confusionMatrix(truth, predicted, 3);
    assert.deepEqual(m, [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
    assert.deepEqual(precisionRecall(m), { precision: [0.5, 2 / 3, 1], recall: [0.5, 1, 2 / 3] });
    assert.deepEqual(precisionRecall([[0, 0], [1, 0]]), { precision: [0, 0], recall: [0, 0] });
  });

  test('argmaxRows takes the first maximum', () => {
    assert.deepEqual(Array.from(argmaxRows([0.2, 0.5, 0.3, 0.4, 0.4, 0.2], 3)), [1, 0]);
    assert.throws(() => argmaxRows([1, 2, 3, 4], 3), RangeError);
  });

  test('errors', () => {
    assert.throws(() => accuracy([0, 1], [0]), RangeError);
    assert.throws(() => accuracy([], []), /no samples/);
    assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /label at index 1 is 3/);
    assert.throws(() => oneVsRest(new Float32Array(5), [0, 1], 3), /5 scores is not 2 samples × 3 classes/);
    assert.throws(() => precisionRecall([[1, 2], [3]]), RangeError);
  });
});

describe('agreement with scikit-learn', () => {
  interface SkCurve { fpr: number[]; tpr: number[]; thresholds: Array<number | string> }
  interface SkResult {
    binary: Array<{ full: SkCurve; dropped: SkCurve; auc: number }>;
    ovr: { auc: number[]; full: SkCurve[] };
    confusion: number[][];
    accuracy: number;
  }
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn.metrics import roc_curve, roc_auc_score, confusion_matrix, accuracy_score
d = json.load(sys.stdin)
def curve(y, s, drop):
    f, t, th = roc_curve(y, s, drop_intermediate=drop)
    return {"fpr": f.tolist(), "tpr": t.tolist(), "thresholds": ["inf" if np.isinf(x) else float(x) for x in th]}
P = np.array(d["probs"], dtype=np.float64).reshape(-1, d["k"]); yk = np.array(d["labels"])
out = {
  "binary": [{"full": curve(y, s, False), "dropped": curve(y, s, True), "auc": roc_auc_score(y, s)}
             for y, s in ((np.array(b["labels"]), np.array(b["scores"], dtype=np.float64)) for b in d["binary"])],
  "ovr": {"auc": [roc_auc_score(yk == c, P[:, c]) for c in range(d["k"])],
          "full": [curve(yk == c, P[:, c], False) for c in range(d["k"])]},
  "confusion": confusion_matrix(yk, P.argmax(axis=1), labels=list(range(d["k"]))).tolist(),
  "accuracy": accuracy_score(yk, P.argmax(axis=1)),
}
json.dump(out, sys.stdout)
`;
  const r = rng(2024);
  const n = 2000;
  const k = 3;
  // Scores rounded to 1/40 so almost every threshold is shared by many samples.
  const tiedLabels = Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
  const tied = { labels: tiedLabels, scores: tiedLabels.map((l) => Math.round(40 * Math.min(1, Math.max(0, 0.35 * l + 0.65 * r()))) / 40) };
  // Distinct scores with long same-label runs: many collinear points for drop_intermediate to remove.
  const distinctScores = Array.from({ length: n }, () => r());
  const distinct = { scores: distinctScores, labels: distinctScores.map((s) => (r() < s * s ? 1 : 0)) };
  const labels = Array.from({ length: n }, () => Math.floor(r() * k));
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const raw = Array.from({ length: k }, (_, c) => r() + (c === labels[i] ? 0.6 : 0));
    const sum = raw.reduce((a, b) => a + b, 0);
    // Rounding the normalised rows to 1/20 makes ties within each class column
    // (rows then no longer sum to 1, so sklearn is asked per class, as its "ovr" does).
    raw.forEach((v, c) => (probs[i * k + c] = Math.round((20 * v) / sum) / 20));
  }
  const input = JSON.stringify({ binary: [tied, distinct], labels, probs: Array.from(probs), k });
  let sk: SkResult;
  before(() => {
    sk = JSON.parse(execFileSync(python(), ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 << 20 })) as SkResult;
  });
  const thresholdsOf = (c: SkCurve) => c.thresholds.map((t) => (t === 'inf' ? INF : (t as number)));
  const compare = (mine: ReturnType<typeof rocCurve>, theirs: SkCurve, what: string) => {
    assertClose(mine.fpr, theirs.fpr, 1e-12, `${what} fpr`);
    assertClose(mine.tpr, theirs.tpr, 1e-12, `${what} tpr`);
    assert.deepEqual(mine.thresholds, thresholdsOf(theirs), `${what} thresholds`);
  };

  const binaryCases = [['tied', tied], ['distinct', distinct]] as const;
  binaryCases.forEach(([name, data], b) => {
    test(`binary roc_curve (both drop_intermediate settings) and roc_auc_score: ${name} scores`, () => {
      const theirs = sk.binary[b]!;
      const pos = data.labels.map((l) => l === 1);
      const full = rocCurve(data.scores, pos);
      const dropped = rocCurve(data.scores, pos, { dropIntermediate: true });
      if (name === 'tied') assert.ok(full.fpr.length < 50, 'the test data has heavy ties');
      else assert.ok(dropped.fpr.length < full.fpr.length / 2, 'the test data has collinear runs');
      compare(full, theirs.full, 'full');
      compare(dropped, theirs.dropped, 'dropped');
      const area = rocAuc(data.scores, pos);
      assert.ok(Math.abs(area - theirs.auc) <= 1e-12, `${area} vs ${theirs.auc}`);
      assert.ok(Math.abs(auc(full.fpr, full.tpr) - theirs.auc) <= 1e-12);
    });
  });

  test('one-vs-rest curves and AUCs on float32 probabilities', () => {
    const mine = oneVsRest(probs, labels, k);
    for (let c = 0; c < k; c++) {
      compare(mine[c]!.roc, sk.ovr.full[c]!, `class ${c}`);
      assert.equal(mine[c]!.classIndex, c);
      assert.ok(Math.abs(mine[c]!.auc - sk.ovr.auc[c]!) <= 1e-12, `class ${c}: ${mine[c]!.auc} vs ${sk.ovr.auc[c]}`);
    }
  });

  test('confusion matrix and accuracy of the argmax prediction', () => {
    const predicted = argmaxRows(probs, k);
    assert.deepEqual(confusionMatrix(labels, predicted, k), sk.confusion);
    assert.equal(accuracy(labels, predicted), sk.accuracy);
  });
});
