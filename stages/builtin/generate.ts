/**
 * `generate`: synthetic Delphes ROOT files for the topology classifier
 * (hep/generator): QCD, tt̄ and W+jets with a lepton filter. Fans out one
 * shard per output file, `<sample>/<sample>_<NNN>.root`; each file has its
 * own random stream, so shards are independent and any re-run of a shard
 * writes the same bytes.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { FanoutStageKind } from '../kind.js';
import type { JsonValue } from '../../protocol/manifest.js';
import { FileGenerator, SAMPLE_MODELS, SAMPLES, type SampleName } from '../../hep/generator/index.js';
import { DEFAULT_PILEUP } from '../../hep/generator/detector.js';

const Sample = z.enum(['qcd', 'ttbar', 'wjets']) satisfies z.ZodType<SampleName>;

const With = z.strictObject({
  eventsPerSample: z.number().int().positive(),
  eventsPerFile: z.number().int().positive().default(10000),
  samples: z
    .array(Sample)
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'samples must not repeat')
    .default([...SAMPLES]),
  seed: z.number().int().default(42),
  /** Mean pile-up vertices per event (Poisson): the default gives ~80-115 EFlow objects per event, 35 gives ~210-245 (and ~40 % slower writing). */
  pileup: z.number().min(0).max(200).default(DEFAULT_PILEUP),
  /** Files generated at once. */
  window: z.number().int().positive().default(2),
});
type With = z.infer<typeof With>;

interface Shard {
  sample: SampleName;
  fileIndex: number;
  events: number;
  /** Output name, relative to the stage's data folder. */
  name: string;
  [k: string]: JsonValue;
}

/** Events per batch between checks of the abort signal and progress reports. */
const BATCH = 1000;

function fileName(sample: SampleName, fileIndex: number): string {
  return `${sample}/${sample}_${String(fileIndex).padStart(3, '0')}.root`;
}

export const generate: FanoutStageKind<With, Shard> = {
  type: 'fanout',
  name: 'generate',
  version: '2', // 2: MissingET is −Σ EFlow (Delphes), with a soft recoil balancing the hard process
  description: 'Synthetic Delphes events (QCD, ttbar, W+jets with a lepton filter) as ROOT files, one shard per file',
  withSchema: With,
  window: (w) => w.window,

  async plan(ctx) {
    const { eventsPerSample, eventsPerFile, samples } = ctx.with;
    const shards: Shard[] = [];
    for (const sample of samples) {
      for (let fileIndex = 0, done = 0; done < eventsPerSample; fileIndex++) {
        const events = Math.min(eventsPerFile, eventsPerSample - done);
        shards.push({ sample, fileIndex, events, name: fileName(sample, fileIndex) });
        done += events;
      }
    }
    return shards;
  },

  async runShard(ctx, shard) {
    const { sample, fileIndex, events, name } = shard;
    const file = new FileGenerator({ sample, seed: ctx.with.seed, fileIndex, events, pileup: ctx.with.pileup });
    ctx.progress({ done: 0, total: events, unit: 'events', message: name });
    while (file.remaining > 0) {
      ctx.signal.throwIfAborted();
      file.add(BATCH);
      ctx.progress({ done: events - file.remaining, total: events, unit: 'events', message: name });
      // Generation is synchronous: yield so cancellation and heartbeats get through.
      await yieldToEventLoop();
    }
    ctx.signal.throwIfAborted();
    await ctx.output.write(name, file.finish(), { rows: events });
    return { counts: { events, files: 1 }, summary: { name, sample, label: SAMPLE_MODELS[sample].label, events } };
  },

  async combine(_ctx, shards) {
    const files = [...shards]
      .sort((a, b) => a.index - b.index)
      .map((s) => s.summary as { name: string; sample: SampleName; label: number; events: number });
    return {
      counts: { events: files.reduce((n, f) => n + f.events, 0), files: files.length },
      summary: { files },
    };
  },
};
