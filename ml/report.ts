/**
 * Scores trained classifiers from the test-set predictions they saved:
 * per-class ROC/AUC, accuracy, confusion matrices, training curves, figures
 * and a markdown report. No TensorFlow.js needed.
 */
import type { Storage } from '../storage/index.js';
import { accuracy, argmaxRows, confusionMatrix, oneVsRest, precisionRecall } from './metrics.js';
import { confusionMatrixFigure, rejectionFigure, rocFigure, svgToPng, trainingCurvesFigure } from './figures/index.js';
import { STANDARD_EFFICIENCIES, workingPoints, type WorkingPoint } from './workingPoint.js';
import { paperClaimText, workingPointTable } from './workingPointReport.js';
import { CLASS_NAMES, CLASSES } from '../hep/layout.js';
import type { EpochScores } from './trainer.js';
import { readOutput, testPredictions, type TrainedModel } from './trainedOutputs.js';
import type { JobCallbacks, JobFile, JobResult } from './job.js';

export interface ReportSettings {
  /** Points kept per stored ROC curve (the AUC always uses the full curve). */
  rocPoints: number;
  /** Also render each figure to PNG (SVG is always written). */
  png: boolean;
  pngWidth: number;
}

export type { TrainedModel } from './trainedOutputs.js';

/** A working point as the run summary and `--json` carry it. */
export type WorkingPointSummary = Pick<WorkingPoint, 'target' | 'threshold' | 'efficiency' | 'fpr' | 'fprError' | 'rejection' | 'rejectionError' | 'rejectionLowerLimit'>;

/** `workingPoints[c]`: class c taken as signal, one entry per standard efficiency (99 %, 95 %, 90 %). */
export type ModelScores = { model: string; auc: number[]; accuracy: number; workingPoints: WorkingPointSummary[][] };

export interface ModelMetrics {
  stage: string;
  model: string;
  params: number | null;
  backend: string | null;
  testEvents: number;
  accuracy: number;
  /** One-vs-rest AUC per class, in class order (QCD, ttbar, W+jets). */
  auc: number[];
  confusion: number[][];
  precision: number[];
  recall: number[];
  history: EpochScores[];
  roc: Array<{ classIndex: number; fpr: number[]; tpr: number[] }>;
  /** Per class taken as signal: the working points at 99 %, 95 % and 90 % signal efficiency. */
  workingPoints: WorkingPoint[][];
}

/** The files of the report and, as `report`, the AUC table the CLI prints at the end of a run. */
export async function scoreModels(
  storage: Storage,
  models: TrainedModel[],
  settings: ReportSettings,
  io: Pick<JobCallbacks, 'progress' | 'log'>,
): Promise<JobResult<Record<string, ModelScores>> & { report: string }> {
  const results: ModelMetrics[] = [];
  for (const model of [...models].sort((a, b) => (a.stageId < b.stageId ? -1 : 1))) {
    results.push(await scoreModel(storage, model, settings.rocPoints));
    io.progress({ done: results.length, total: models.length, unit: 'models' });
  }
  const labels = results[0]!.testEvents;
  for (const r of results) {
    if (r.testEvents !== labels) io.log(`note: ${r.stage} was scored on ${r.testEvents} test events, ${results[0]!.stage} on ${labels}: were they trained on different data?`);
  }
  const figures = figuresOf(results);
  const files: JobFile[] = [];
  for (const f of figures) {
    files.push({ name: `${f.name}.svg`, body: f.svg });
    if (settings.png) files.push({ name: `${f.name}.png`, body: svgToPng(f.svg, { width: settings.pngWidth }) });
  }
  files.push({ name: 'metrics.json', body: `${JSON.stringify({ classes: CLASS_NAMES, models: results }, null, 1)}\n` });
  const table = `${aucTable(results)}\n\n${workingPointTable(results, 0.99)}`;
  files.push({ name: 'report.md', body: reportMarkdown(results, figures, table, settings.png) });
  return {
    files,
    counts: { models: results.length, figures: figures.length * (settings.png ? 2 : 1) },
    summary: Object.fromEntries(results.map((r) => [r.stage, { model: r.model, auc: r.auc.map(round4), accuracy: round4(r.accuracy), workingPoints: r.workingPoints.map((wps) => wps.map(summaryOf)) }])),
    report: table,
  };
}

interface Figure {
  name: string;
  title: string;
  svg: string;
}

/** ROC curves per class (all models on one figure), then each model's loss, accuracy and confusion figures. */
function figuresOf(results: ModelMetrics[]): Figure[] {
  const figures: Figure[] = [];
  CLASS_NAMES.forEach((cls, c) => {
    figures.push({
      name: `roc-${slug(cls)}`,
      title: `ROC, ${cls} vs rest`,
      svg: rocFigure(results.map((r) => ({ label: r.model, fpr: r.roc[c]!.fpr, tpr: r.roc[c]!.tpr, auc: r.auc[c]! })), { title: `${cls} selector: ROC on the test set` }),
    });
  });
  CLASS_NAMES.forEach((cls, c) => {
    figures.push({
      name: `rejection-${slug(cls)}`,
      title: `Background rejection against ${cls} efficiency`,
      svg: rejectionFigure(results.map((r) => ({ label: r.model, fpr: r.roc[c]!.fpr, tpr: r.roc[c]!.tpr })), { title: `${cls} selector: background rejection (test set)`, marks: STANDARD_EFFICIENCIES }),
    });
  });
  for (const r of results) {
    const epochs = r.history;
    figures.push({
      name: `loss-${r.stage}`,
      title: `${r.model}: loss per epoch`,
      svg: trainingCurvesFigure([{ label: 'train', values: epochs.map((e) => e.loss) }, { label: 'validation (test set)', values: epochs.map((e) => e.valLoss), dashed: true }], { title: `${r.model}: categorical cross-entropy`, yLabel: 'loss' }),
    });
    figures.push({
      name: `accuracy-${r.stage}`,
      title: `${r.model}: accuracy per epoch`,
      svg: trainingCurvesFigure([{ label: 'train', values: epochs.map((e) => e.accuracy) }, { label: 'validation (test set)', values: epochs.map((e) => e.valAccuracy), dashed: true }], { title: `${r.model}: accuracy`, yLabel: 'accuracy' }),
    });
    figures.push({ name: `confusion-${r.stage}`, title: `${r.model}: confusion matrix`, svg: confusionMatrixFigure(r.confusion, [...CLASS_NAMES], { title: `${r.model}: confusion matrix (test set)`, normalize: true }) });
  }
  return figures;
}

async function scoreModel(storage: Storage, input: TrainedModel, rocPoints: number): Promise<ModelMetrics> {
  const read = (name: string) => readOutput(storage, input, name);
  const { predictions, labels } = await testPredictions(storage, input);
  const history = (JSON.parse(Buffer.from(await read('history.json')).toString('utf8')) as { epochs: EpochScores[] }).epochs;
  const model = JSON.parse(Buffer.from(await read('model.json')).toString('utf8')) as { spec?: { name?: string }; params?: number; backend?: string };
  const predicted = argmaxRows(predictions, CLASSES);
  const confusion = confusionMatrix(labels, predicted, CLASSES);
  const pr = precisionRecall(confusion);
  const rocs = oneVsRest(predictions, labels, CLASSES, { maxPoints: rocPoints });
  return {
    stage: input.stageId,
    model: model.spec?.name ?? input.stageId,
    params: model.params ?? null,
    backend: model.backend ?? null,
    testEvents: labels.length,
    accuracy: accuracy(labels, predicted),
    auc: rocs.map((r) => r.auc),
    confusion,
    precision: pr.precision,
    recall: pr.recall,
    history,
    roc: rocs.map((r) => ({ classIndex: r.classIndex, fpr: Array.from(r.roc.fpr), tpr: Array.from(r.roc.tpr) })),
    workingPoints: CLASS_NAMES.map((_, c) => workingPoints(predictions, labels, CLASSES, c)),
  };
}

/** The AUC table the CLI prints at the end of a run. */
export function aucTable(results: ModelMetrics[]): string {
  const head = `| model | params | ${CLASS_NAMES.map((c) => `AUC ${c}`).join(' | ')} | accuracy | test events |`;
  const rule = `|---|---:|${CLASS_NAMES.map(() => '---:').join('|')}|---:|---:|`;
  const rows = results.map((r) => `| ${r.model} | ${r.params ?? '?'} | ${r.auc.map((a) => a.toFixed(4)).join(' | ')} | ${r.accuracy.toFixed(4)} | ${r.testEvents} |`);
  return [head, rule, ...rows].join('\n');
}

function reportMarkdown(results: ModelMetrics[], figures: Array<{ name: string; title: string }>, table: string, png: boolean): string {
  const link = (f: { name: string; title: string }) => (png ? `![${f.title}](${f.name}.png) ([SVG](${f.name}.svg))` : `![${f.title}](${f.name}.svg)`);
  const lines = [
    '# topoflow evaluation',
    '',
    'One-vs-rest ROC AUC per class on the test set (class index 0 = QCD, 1 = ttbar, 2 = W+jets), accuracy of the arg-max prediction.',
    '',
    table,
    '',
    '## ROC curves',
    '',
    ...figures.filter((f) => f.name.startsWith('roc-')).map(link),
    '',
    '## Working points',
    '',
    'Per class taken as signal (the other two classes are the background): the cut on that class\'s score that keeps 99 %, 95 % and 90 % of the signal in the test set, the false-positive rate it lets through and the background rejection factor 1/FPR. Uncertainties are binomial (statistical only, from the test set\'s size); when no background passes, the rejection is a 95 % CL lower limit (background events / 3).',
    '',
    ...STANDARD_EFFICIENCIES.flatMap((e) => [workingPointTable(results, e), '']),
    paperClaimText(results),
    '',
    ...figures.filter((f) => f.name.startsWith('rejection-')).map(link),
    '',
    '## Per model',
    '',
  ];
  for (const r of results) {
    const last = r.history[r.history.length - 1];
    lines.push(`### ${r.model} (stage \`${r.stage}\`)`, '');
    lines.push(`${r.params ?? '?'} parameters, trained on the ${r.backend ?? '?'} back end for ${r.history.length} epoch(s)${last ? `; last epoch: loss ${last.loss.toFixed(4)}, validation loss ${last.valLoss.toFixed(4)}` : ''}.`, '');
    lines.push(`Precision per class: ${r.precision.map(round4).join(', ')}; recall: ${r.recall.map(round4).join(', ')}.`, '');
    lines.push(...figures.filter((f) => f.name.endsWith(`-${r.stage}`)).map(link), '');
  }
  return `${lines.join('\n')}\n`;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
/** Rounded to 6 significant digits: enough for the summary, short in the CLI's JSON. */
const sig6 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(6)));

function summaryOf(wp: WorkingPoint): WorkingPointSummary {
  return {
    target: wp.target,
    threshold: sig6(wp.threshold)!,
    efficiency: sig6(wp.efficiency)!,
    fpr: sig6(wp.fpr)!,
    fprError: sig6(wp.fprError)!,
    rejection: sig6(wp.rejection),
    rejectionError: sig6(wp.rejectionError),
    rejectionLowerLimit: sig6(wp.rejectionLowerLimit),
  };
}
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');
