/**
 * Stage 3 at the seed's scale: the 243-point HLF grid of seed-pipeline.md §4
 * (nh1, nh2, nh3, batch size, epochs; 5-fold CV on a 2 % sample) on the demo
 * data, as a full grid and as successive halving, with 1 and 2 `train`
 * workers, on a real Temporal dev server and local storage.
 *
 *   node dist/bench/tune.js [--events 20000] [--workers 1,2] [--search grid,halving] [--sample 0.02]
 *
 * Each configuration starts from a copy of the same features output (so no
 * configuration reuses another's trials) and reports: the tune stage's wall
 * time, the train workers' CPU time, the best point with its mean ± std over
 * folds, the number of trials and trial-epochs, and the engine's overhead per
 * trial (wall × workers − the trials' own training seconds, per trial).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../infra/temporal.js';
import { projectRoot } from '../infra/tools.js';
import { startRun } from '../cli/runs.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const events = Number(arg('events', '20000'));
const workerCounts = arg('workers', '1,2').split(',').map(Number);
const searches = arg('search', 'grid,halving').split(',');
const sample = Number(arg('sample', '0.02'));

const tmp = mkdtempSync(join(tmpdir(), 'topoflow-bench-tune-'));
const cli = join(projectRoot, 'bin', 'topoflow.js');
const server = await startTemporalDevServer({ dbFile: join(tmp, 'temporal.db'), headless: true });
const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, namespace: server.namespace });
const children: ChildProcess[] = [];

async function worker(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'worker', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('polling') && resolve()));
  return child;
}

/** utime + stime of a process, seconds (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const SEED_GRID = { nh1: [50, 100, 150], nh2: [20, 50, 100], nh3: [10, 20, 50], batchSize: [64, 100, 200], epochs: [10, 30, 50] };
const models = { hlf_search: { input: 'hlf', layers: [{ dense: '${hp.nh1}', activation: 'relu' }, { dense: '${hp.nh2}', activation: 'relu' }, { dense: '${hp.nh3}', activation: 'relu' }, { dense: 3, activation: 'softmax' }] } };
const data = {
  generate: { uses: 'generate', with: { eventsPerSample: events, eventsPerFile: 10000, seed: 42 } },
  ingest: { uses: 'ingest', needs: ['generate'], with: { maxTracks: 150, maxPhotons: 50, maxNeutrals: 50 } },
  features: { uses: 'features', needs: ['ingest'], with: { seed: 42 } },
};

async function run(pipeline: unknown, root: string): Promise<RunResult> {
  const id = `bench-tune-${Date.now()}`;
  await startRun(client, id, { pipeline, storage: { root: pathToFileURL(root).href } } as PipelineRunInput);
  return (await client.workflow.getHandle(id).result()) as RunResult;
}

try {
  await worker(['--queues', 'topoflow']);
  const base = join(tmp, 'base');
  const prepared = await run({ name: 'data', models, stages: data }, base);
  if (prepared.status !== 'completed') throw new Error(`data preparation failed: ${JSON.stringify(prepared.stages)}`);
  const rows: string[] = [];
  for (const workers of workerCounts) {
    const trainers = await Promise.all(Array.from({ length: workers }, () => worker(['--queues', 'train', '--slots', '1'])));
    for (const search of searches) {
      const root = join(tmp, `${search}-${workers}`);
      cpSync(base, root, { recursive: true });
      rmSync(join(root, 'content'), { recursive: true, force: true });
      const tune = { uses: 'tune', needs: ['features'], timeout: '1d', with: { model: 'hlf_search', space: SEED_GRID, search, folds: 5, sample, seed: 42, window: 2 * workers } };
      const cpu0 = trainers.map((t) => cpuSeconds(t.pid!));
      const t0 = performance.now();
      const result = await run({ name: 'tune', models, stages: { ...data, tune } }, root);
      const wall = (performance.now() - t0) / 1000;
      const cpu = trainers.reduce((s, t, i) => s + cpuSeconds(t.pid!) - cpu0[i]!, 0);
      if (result.status !== 'completed') throw new Error(`${search} with ${workers} worker(s) failed: ${JSON.stringify(result.stages.tune)}`);
      const manifest = JSON.parse(readFileSync(new URL(result.stages.tune!.manifestUri!), 'utf8')) as { outputs: Array<{ name: string; uri: string }> };
      const best = JSON.parse(readFileSync(new URL(manifest.outputs.find((o) => o.name === 'best.json')!.uri), 'utf8')) as { best: { point: Record<string, number>; mean: number; std: number }; trials: number };
      const table = join(tmp, `${search}-${workers}.json`);
      // The trials' own training seconds and epochs, from trials.parquet, through pyarrow (the project's venv).
      const trialsUri = manifest.outputs.find((o) => o.name === 'trials.parquet')!.uri;
      const py = spawn(join(projectRoot, '.venv', 'bin', 'python'), ['-c', `
import sys, json, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1]).to_pylist()
seen = {}
for r in t: seen[(r['candidate'], r['rung'])] = (r['trial_seconds'], r['epochs_budget'])
print(json.dumps({'seconds': sum(s for s, _ in seen.values()), 'epochs': sum(e for _, e in seen.values())}))`, new URL(trialsUri).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      py.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => py.once('exit', r));
      const own = JSON.parse(out) as { seconds: number; epochs: number };
      writeFileSync(table, JSON.stringify({ search, workers, wall, cpu, best, own }, null, 1));
      const overheadMs = ((wall * workers - own.seconds) / best.trials) * 1000;
      const p = best.best.point;
      rows.push(`| ${search} | ${workers} | ${best.trials} | ${own.epochs} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} | ${p.nh1}/${p.nh2}/${p.nh3}, batch ${p.batchSize}, ${p.epochs} epochs | ${best.best.mean.toFixed(4)} ± ${best.best.std.toFixed(4)} | ${overheadMs.toFixed(0)} |`);
      console.log(rows[rows.length - 1]);
    }
    for (const t of trainers) t.kill('SIGTERM');
  }
  console.log(['', '| search | train workers | trials | trial-epochs | wall s | train CPU s | best (nh1/nh2/nh3, batch, epochs) | AUC mean ± std (5 folds) | engine overhead per trial, ms |', '|---|---|---|---|---|---|---|---|---|', ...rows].join('\n'));
} finally {
  for (const c of children) c.kill('SIGTERM');
  await connection.close();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
