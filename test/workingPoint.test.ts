/**
 * ml/workingPoint.ts: a hand-computed case (ties and a cut that passes no
 * background included), the error cases, and agreement with scikit-learn's
 * roc_curve (first point with TPR >= target) on random three-class scores
 * with many ties; then the report's working-point section on real numbers.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { measure, workingPoint, workingPoints } from '../ml/workingPoint.js';
import { claimVerdict, paperClaimText, workingPointTable } from '../ml/workingPointReport.js';
import { rejectionFigure } from '../ml/figures/index.js';
import { python } from './support/python.js';
import { Rng } from '../common/rng.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe('working points, hand-computed', () => {
  // 10 signal events at 0.1 … 1.0; 20 background events: 15 at 0.01 … 0.15 and 5 at 0.25 … 0.65.
  const signal = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
  const background = [...Array.from({ length: 15 }, (_, i) => (i + 1) / 100), 0.25, 0.35, 0.45, 0.55, 0.65];
  const scores = [...signal, ...background];
  const isSignal = scores.map((_, i) => i < signal.length);

  test('90 %: the 9th highest signal score is the cut; 5 of 20 background events pass', () => {
    const wp = workingPoint(scores, isSignal, 0.9);
    assert.equal(wp.threshold, 0.2);
    assert.equal(wp.selectedSignal, 9);
    assert.equal(wp.selectedBackground, 5);
    assert.equal(wp.efficiency, 0.9);
    assert.equal(wp.fpr, 0.25);
    assert.equal(wp.rejection, 4);
    close(wp.fprError, Math.sqrt((0.25 * 0.75) / 20), 1e-15, 'fpr error');
    close(wp.rejectionError!, Math.sqrt((0.25 * 0.75) / 20) / 0.0625, 1e-12, 'rejection error');
    close(wp.efficiencyError, Math.sqrt((0.9 * 0.1) / 10), 1e-15, 'efficiency error');
    assert.equal(wp.rejectionLowerLimit, null);
  });

  test('95 % and 99 % need all 10 signal events: cut at 0.1, 11 background events pass', () => {
    for (const target of [0.95, 0.99]) {
      const wp = workingPoint(scores, isSignal, target);
      assert.equal(wp.threshold, 0.1);
      assert.equal(wp.efficiency, 1);
      assert.equal(wp.selectedBackground, 11, `target ${target}`);
      close(wp.rejection!, 20 / 11, 1e-12, 'rejection');
    }
  });

  test('ties at the cut are all kept, so the efficiency can exceed the target', () => {
    const wp = workingPoint([0.5, 0.5, 0.5, 0.9, 0.5, 0.1], [true, true, true, true, false, false], 0.5);
    assert.equal(wp.threshold, 0.5);
    assert.equal(wp.efficiency, 1);
    assert.equal(wp.selectedBackground, 1);
  });

  test('a cut that passes no background: no rejection, a 95 % CL lower limit of B/3', () => {
    const wp = workingPoint([0.9, 0.8, 0.1, 0.2, 0.3], [true, true, false, false, false], 0.99);
    assert.equal(wp.fpr, 0);
    assert.equal(wp.rejection, null);
    assert.equal(wp.rejectionError, null);
    assert.equal(wp.rejectionLowerLimit, 1);
    assert.equal(claimVerdict(wp), 'inconclusive', 'a lower limit of 1 says nothing about > 10');
  });

  test('measure: a fixed cut on another sample', () => {
    const wp = measure([0.3, 0.1, 0.5, 0.05], [true, true, false, false], 0.2, { signal: 1, target: 0.9 });
    assert.deepEqual([wp.selectedSignal, wp.signalEvents, wp.selectedBackground, wp.backgroundEvents], [1, 2, 1, 2]);
  });

  test('bad input is refused with the reason', () => {
    assert.throws(() => workingPoint([0.1], [true], 0.9), /no background events/);
    assert.throws(() => workingPoint([0.1], [false], 0.9), /no signal events/);
    assert.throws(() => workingPoint([0.1, 0.2], [true, false], 0), /target efficiency must be in \(0, 1\]/);
    assert.throws(() => workingPoint([Number.NaN, 0.2], [true, false], 0.9), /score at index 0 is NaN/);
    assert.throws(() => workingPoints([0.1, 0.2, 0.7], [0, 1], 3, 1), /3 scores is not 2 events × 3 classes/);
    assert.throws(() => workingPoints([0.1, 0.2, 0.7], [0], 3, 3), /signal class 3 is not in 0..2/);
  });
});

describe('working points agree with scikit-learn roc_curve', () => {
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn.metrics import roc_curve
d = json.load(sys.stdin)
P = np.array(d["probs"], dtype=np.float64).reshape(-1, d["k"]); y = np.array(d["labels"])
out = []
for c in range(d["k"]):
    f, t, th = roc_curve(y == c, P[:, c], drop_intermediate=False)
    row = []
    for e in d["targets"]:
        i = int(np.argmax(t >= e))
        row.append({"fpr": float(f[i]), "tpr": float(t[i]), "threshold": float(th[i])})
    out.append(row)
json.dump(out, sys.stdout)
`;
  const r = new Rng(77);
  const n = 3000;
  const k = 3;
  const targets = [0.99, 0.95, 0.9, 0.5, 0.333, 1];
  const labels = Array.from({ length: n }, () => Math.floor(r.uniform() * k));
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const raw = Array.from({ length: k }, (_, c) => r.uniform() + (c === labels[i] ? 0.8 : 0));
    const sum = raw.reduce((a, b) => a + b, 0);
    // Rounded to 1/50: many events share each score, as a saturated softmax gives.
    raw.forEach((v, c) => (probs[i * k + c] = Math.round((50 * v) / sum) / 50));
  }
  let sk: Array<Array<{ fpr: number; tpr: number; threshold: number }>>;
  before(() => {
    const input = JSON.stringify({ probs: Array.from(probs), labels, k, targets });
    sk = JSON.parse(execFileSync(python(), ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 << 20 })) as typeof sk;
  });

  for (let c = 0; c < k; c++) {
    test(`class ${c} as signal: threshold, TPR and FPR at ${targets.join(', ')}`, () => {
      const mine = workingPoints(probs, labels, k, c, targets);
      mine.forEach((wp, t) => {
        const theirs = sk[c]![t]!;
        assert.equal(wp.threshold, theirs.threshold, `threshold at ${targets[t]}`);
        close(wp.efficiency, theirs.tpr, 1e-12, `tpr at ${targets[t]}`);
        close(wp.fpr, theirs.fpr, 1e-12, `fpr at ${targets[t]}`);
      });
    });
  }

  test('report text: tables, the verdict on the paper claim, the figure', () => {
    const results = [{ model: 'toy', workingPoints: [0, 1, 2].map((c) => workingPoints(probs, labels, k, c)) }];
    const table = workingPointTable(results, 0.99);
    assert.match(table, /^\| at 99 % signal efficiency \| QCD: FPR \| QCD: rejection \|/);
    assert.match(table, /\| toy \| \d\.\d+(e-\d+)? ± /);
    const text = paperClaimText(results);
    assert.match(text, /more than an order of magnitude/);
    assert.match(text, /- toy: QCD as signal, rejection [\d.]+ ± [\d.]+: (holds|does not hold|cannot be decided)/);
    const svg = rejectionFigure(results[0]!.workingPoints.map((_, c) => ({ label: `class ${c}`, fpr: [0, 0.01, 0.1, 1], tpr: [0, 0.5, 0.9, 1] })), { marks: [0.9, 0.99] });
    assert.match(svg, /Background rejection/);
    assert.match(svg, /10²/, 'log axis labelled in powers of ten up to 1/0.01');
  });
});
