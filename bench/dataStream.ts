/**
 * The trainer's data stream alone (ml/data.ts: one epoch of interleave →
 * shuffle buffer → batches of 128, Parquet decode included, no model): rows/s and peak RSS
 * with parts fetched whole vs read by byte range, and (whole parts) over the
 * row groups an earlier epoch kept, as a training run's later epochs read
 * them (ml/keptGroups.ts, 64 MiB), for an HLF-only model and for one with the
 * particle lists.
 *
 *   npm run build && node dist/bench/dataStream.js [--events-per-sample 20000] [--files-per-sample 1] [--caps demo|full] [--padding masked|faithful] [--repeat 3]
 *
 * Data: stage-2 parts made by the real stages 1 and 2 from generated events,
 * on local storage in a temporary folder (deleted at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../storage/index.js';
import { makeFeaturesDataset } from '../test/support/stage2Data.js';
import { DEFAULT_INGEST } from '../hep/ingest/config.js';
import { epochBatches, type PartRef } from '../ml/data.js';
import { KeptGroups } from '../ml/keptGroups.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const eventsPerSample = Number(arg('--events-per-sample') ?? 20_000);
const filesPerSample = Number(arg('--files-per-sample') ?? 1);
const repeat = Number(arg('--repeat') ?? 3);
const full = arg('--caps') === 'full';
const padding = arg('--padding') === 'faithful' ? 'faithful' : 'masked';

const dir = mkdtempSync(join(tmpdir(), 'topoflow-stream-'));
try {
  const storage = new LocalStorage(dir);
  const data = await makeFeaturesDataset(storage, { eventsPerSample, filesPerSample, padding, ...(full ? { caps: { maxTracks: DEFAULT_INGEST.maxTracks, maxPhotons: DEFAULT_INGEST.maxPhotons, maxNeutrals: DEFAULT_INGEST.maxNeutrals } } : {}) });
  const parts: PartRef[] = data.outputs.filter((o) => o.name.startsWith('train-')).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));
  const mb = parts.reduce((n, p) => n + p.bytes, 0) / 2 ** 20;
  console.log(`${parts.length} train parts, ${parts.reduce((n, p) => n + p.rows, 0)} rows, ${mb.toFixed(1)} MiB (${full ? '801' : '251'} particles per event, ${padding} padding); best of ${repeat} epochs; load ${loadavg()[0]!.toFixed(1)}\n`);
  console.log('| reads | needs | rows/s | peak RSS MiB |');
  console.log('|---|---|---:|---:|');
  for (const [reads, wholePartBytes, keep] of [['whole parts', Infinity, false], ['byte ranges', 0, false], ['whole parts, groups kept', Infinity, true]] as const) {
    for (const particles of [false, true]) {
      const needs = { hlf: true, particles, trim: true };
      const kept = keep ? new KeptGroups() : undefined;
      if (kept) for await (const _ of epochBatches(storage, parts, needs, { seed: 1, epoch: repeat, bufferSize: 2048, batchSize: 128, kept })); // fills `kept`, untimed
      let best = Infinity;
      let peak = 0;
      let rows = 0;
      for (let epoch = 0; epoch < repeat; epoch++) {
        const t0 = performance.now();
        rows = 0;
        for await (const b of epochBatches(storage, parts, needs, { seed: 1, epoch, bufferSize: 2048, batchSize: 128, wholePartBytes, ...(kept ? { kept } : {}) })) {
          rows += b.size;
          if (rows % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        }
        best = Math.min(best, performance.now() - t0);
      }
      console.log(`| ${reads} | ${particles ? 'HLF + particles' : 'HLF only'} | ${Math.round((rows / best) * 1000).toLocaleString('en-US')} | ${(peak / 2 ** 20).toFixed(0)} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
