/**
 * What `topoflow run` prints, without a server: steady progress lines off a
 * terminal, a summary that fits 100 columns with the report's location, and
 * the evaluation metrics of --json as numbers.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseWatch, LineView, evaluationMetrics, hintLines, jsonSummary, summaryTable, SUMMARY_COLUMNS } from '../cli/follow.js';
import type { Client } from '@temporalio/client';
import type { RunProgress, StageOutcome, StageState } from '../protocol/protocol.js';

const outcome = (over: Partial<StageOutcome> = {}): StageOutcome => ({
  status: 'completed', reason: 'first run of this stage', key: 'k'.repeat(64), manifestKey: 'cache/x/k/manifest.json',
  manifestUri: `file:///very/long/path/to/the/store/${'deep/'.repeat(20)}cache/x/${'k'.repeat(64)}/manifest.json`,
  contentHash: 'c', outputs: [], outputCount: 0, counts: { rows: 10 }, seconds: 1, ...over,
});
const progress = (stages: Record<string, StageState>): RunProgress => ({ runId: 'r1', pipeline: 'demo', runKind: 'manual', status: 'running', order: Object.keys(stages), stages, params: {}, startedAt: 0 });

test('off a terminal, a running stage prints a progress line at a steady pace, with rate and ETA; nothing in between', () => {
  const lines: string[] = [];
  const view = new LineView({ write: (s: string) => lines.push(s) > 0 }, 20_000);
  const running = (done: number): StageState => ({ status: 'running', uses: 'train', needs: [], startedAt: 500, progress: { stageId: 'train', done, total: 100, unit: 'steps', rate: 2, message: 'epoch 1/5' } });
  view.update(progress({ train: running(1) }), 1_000);
  view.update(progress({ train: running(5) }), 10_000);
  view.update(progress({ train: running(9) }), 20_999);
  view.update(progress({ train: running(43) }), 21_000);
  view.update(progress({ train: { ...running(43), status: 'completed', outcome: outcome() } }), 22_000);
  assert.equal(lines.length, 3, lines.join(''));
  assert.match(lines[0]!, /running .*1\/100 steps 2\.0\/s \(epoch 1\/5, ETA 50s\)/);
  assert.match(lines[1]!, /43\/100 steps 2\.0\/s \(epoch 1\/5, ETA 29s\)/);
  assert.match(lines[2]!, /completed/);
});

test('the summary fits 100 columns, names the report file, and keeps the long parts for --verbose', () => {
  const report = { name: 'report.md', key: 'cache/evaluate/k/data/report.md', uri: 'file:///store/cache/evaluate/k/data/report.md', bytes: 10, sha256: 's' };
  const p = progress({
    ingest: { status: 'completed', uses: 'ingest', needs: [], seconds: 3, reason: `new key: ${'with.inputs changed; '.repeat(20)}`, outcome: outcome() },
    evaluate: { status: 'completed', uses: 'evaluate', needs: ['ingest'], seconds: 2, reason: 'first run of this stage', outcome: outcome({ outputs: [report], outputCount: 1, report: '| model | AUC |' }) },
  });
  const text = summaryTable(p);
  const rows = text.split('\n').slice(0, 3);
  for (const row of rows) assert.ok(row.length <= SUMMARY_COLUMNS, `${row.length} columns: ${row}`);
  assert.match(rows[1]!, /… → 0 output\(s\)$/);
  assert.match(text, /evaluate report \(figures beside it\): file:\/\/\/store\/cache\/evaluate\/k\/data\/report\.md/);
  assert.match(text, /\| model \| AUC \|/);
  const verbose = summaryTable(p, { verbose: true });
  assert.ok(verbose.includes(outcome().manifestUri), 'verbose keeps the manifest URI');
});

test('a hint in the summaries of stages that ran is shown once, naming them; cached stages and other summaries add none', () => {
  const hint = 'native TensorFlow is not built here: build it';
  const trained = (over: Partial<StageOutcome> = {}): StageState => ({ status: 'completed', uses: 'train', needs: [], outcome: outcome({ summary: { backend: 'wasm', hint }, ...over }) });
  const p = progress({
    'train-particles': trained(),
    'train-inclusive': trained(),
    'train-old': { ...trained({ status: 'cached' }), status: 'cached' },
    'train-hlf': { status: 'completed', uses: 'train', needs: [], outcome: outcome({ summary: { backend: 'wasm' } }) },
    other: { status: 'completed', uses: 'noop', needs: [], outcome: outcome({ summary: [1, 2] }) },
  });
  assert.deepEqual(hintLines(p), [`note (train-particles, train-inclusive): ${hint}`]);
  assert.ok(summaryTable(p).endsWith(`\n\nnote (train-particles, train-inclusive): ${hint}`), summaryTable(p));
  assert.deepEqual((jsonSummary('r1', { kind: 'closed', status: 'completed', progress: p }) as { notes: unknown }).notes, hintLines(p));
  const none = progress({ 'train-hlf': { status: 'completed', uses: 'train', needs: [], outcome: outcome({ summary: { backend: 'wasm' } }) } });
  assert.deepEqual(hintLines(none), []);
  assert.equal(summaryTable(none).includes('note'), false);
  assert.equal('notes' in (jsonSummary('r1', { kind: 'closed', status: 'completed', progress: none }) as object), false);
});

test('--json carries the evaluation metrics as numbers per model and class', () => {
  const wp = (fpr: number) => ({ target: 0.99, threshold: 0.01, efficiency: 0.99, fpr, fprError: 0.001, rejection: 1 / fpr, rejectionError: 0.1, rejectionLowerLimit: null });
  const summary = { 'train-hlf': { model: 'hlf', auc: [0.9841, 0.9803, 0.9862], accuracy: 0.912, workingPoints: [[wp(0.5)], [wp(0.25)], [wp(0.125)]] }, 'train-inclusive': { model: 'inclusive', auc: [0.99, 0.98, 0.97], accuracy: 0.93 } };
  const p = progress({ evaluate: { status: 'completed', uses: 'evaluate', needs: [], outcome: outcome({ summary }) }, other: { status: 'completed', uses: 'noop', needs: [], outcome: outcome({ summary: { x: 1 } }) } });
  const expected = {
    evaluate: {
      'train-hlf': { model: 'hlf', auc: { QCD: 0.9841, ttbar: 0.9803, 'W+jets': 0.9862 }, accuracy: 0.912, workingPoints: { QCD: [wp(0.5)], ttbar: [wp(0.25)], 'W+jets': [wp(0.125)] } },
      'train-inclusive': { model: 'inclusive', auc: { QCD: 0.99, ttbar: 0.98, 'W+jets': 0.97 }, accuracy: 0.93 },
    },
  };
  assert.deepEqual(evaluationMetrics(p), expected);
  assert.deepEqual((jsonSummary('r1', { kind: 'closed', status: 'completed', progress: p }) as { metrics: unknown }).metrics, expected);
});

test('--json carries each tune stage’s best trial under `tuning`', () => {
  const summary = { metric: 'auc', search: 'halving', best: { point: { nh1: 100, batchSize: 64 }, mean: 0.981, std: 0.002, epochs: 20 }, top: [{ point: { nh1: 100, batchSize: 64 }, mean: 0.981, std: 0.002 }] };
  const p = progress({ tune: { status: 'completed', uses: 'tune', needs: [], outcome: outcome({ summary }) }, other: { status: 'completed', uses: 'noop', needs: [], outcome: outcome({ summary: { x: 1 } }) } });
  assert.deepEqual((jsonSummary('r1', { kind: 'closed', status: 'completed', progress: p }) as { tuning: unknown }).tuning, { tune: summary });
  const none = progress({ other: { status: 'completed', uses: 'noop', needs: [], outcome: outcome() } });
  assert.equal('tuning' in (jsonSummary('r1', { kind: 'closed', status: 'completed', progress: none }) as object), false);
});

test('waiting for the run to close renews its abort signal every minute, so a long run piles up no listeners', async () => {
  mock.timers.enable({ apis: ['Date'], now: 0 });
  try {
    // As the SDK does: every long-poll call under withAbortSignal adds an abort listener to the signal.
    const signals: AbortSignal[] = [];
    let closeRun = (): void => {};
    const closedRun = new Promise<void>((resolve) => (closeRun = resolve));
    const client = {
      withAbortSignal: (signal: AbortSignal, fn: () => Promise<unknown>) => {
        signals.push(signal);
        signal.addEventListener('abort', () => {});
        return Promise.race([fn(), new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled'))))]);
      },
    } as unknown as Client;
    const watch = new CloseWatch(client, { result: () => closedRun } as unknown as ReturnType<Client['workflow']['getHandle']>);
    for (let t = 0; t < 10 * 60_000; t += 500) {
      mock.timers.setTime(t);
      void watch.closed();
    }
    assert.ok(signals.length >= 10 && signals.length <= 11, `one wait per minute over 10 minutes (${signals.length})`);
    assert.deepEqual(signals.slice(0, -1).filter((s) => !s.aborted), [], 'every earlier wait was cancelled');
    assert.equal(signals.at(-1)!.aborted, false, 'the current wait is live');
    // A busy minute (a 72-shard stage completing) adds dozens of listeners to one signal: no cap, so no warning.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    for (let i = 0; i < 40; i++) signals.at(-1)!.addEventListener('abort', () => {});
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
    const closed = watch.closed();
    closeRun();
    await closed;
    watch.stop();
    assert.equal(signals.at(-1)!.aborted, true, 'stop cancels the current wait');
  } finally {
    mock.timers.reset();
  }
});
