/** `topoflow generate`: synthetic Delphes ROOT files on local disk, outside any pipeline. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateFile, SAMPLES, type SampleName } from '../hep/generator/index.js';
import { UsageError, type Globals } from './globals.js';

export interface GenerateOptions {
  out: string;
  eventsPerSample: number;
  eventsPerFile: number;
  samples: string;
  seed: number;
}

export function generateCommand(g: Globals, o: GenerateOptions): number {
  const samples = o.samples.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = samples.filter((s) => !(SAMPLES as readonly string[]).includes(s));
  if (unknown.length) throw new UsageError(`--samples: unknown sample ${unknown.join(', ')}; expected some of: ${SAMPLES.join(', ')}`);
  for (const [flag, v] of [['--events-per-sample', o.eventsPerSample], ['--events-per-file', o.eventsPerFile], ['--seed', o.seed]] as const) {
    if (!Number.isInteger(v) || v < (flag === '--seed' ? 0 : 1)) throw new UsageError(`${flag}: expected a ${flag === '--seed' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  const out = resolve(o.out);
  const started = performance.now();
  let total = 0;
  for (const sample of samples as SampleName[]) {
    mkdirSync(join(out, sample), { recursive: true });
    for (let fileIndex = 0, done = 0; done < o.eventsPerSample; fileIndex++) {
      const events = Math.min(o.eventsPerFile, o.eventsPerSample - done);
      const path = join(out, sample, `${sample}_${String(fileIndex).padStart(3, '0')}.root`);
      writeFileSync(path, generateFile({ sample, seed: o.seed, fileIndex, events }));
      done += events;
      total += events;
      g.log(`${path}: ${events} events (${sample} ${done}/${o.eventsPerSample})`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  process.stdout.write(`generated ${total} events in ${secs.toFixed(1)} s (${(total / secs).toFixed(0)} events/s) under ${out}\n`);
  return 0;
}
