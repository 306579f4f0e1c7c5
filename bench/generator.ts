/**
 * Synthetic event generator speed and event content, per sample.
 *
 *   node dist/bench/generator.js [--events N] [--repeat R] [--pileup P]
 *
 * Runs every sample at the default pile-up (8 vertices), then again at
 * `--pileup` (default 35: busy events of 200–250 EFlow objects).
 * One core: events are generated in this thread and the ROOT writer
 * compresses inline (zlib level 1). Rates are events per second of wall time
 * (best of R) and per CPU second of the process (the same thing when nothing
 * else runs). Prints a markdown table.
 */
import { parseArgs } from 'node:util';
import { EventGenerator, generateFile, SAMPLES, type SampleName } from '../hep/generator/index.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, repeat: { type: 'string', default: '3' }, pileup: { type: 'string', default: '35' } } });
const events = Number(values.events);
const repeat = Number(values.repeat);

interface Timing {
  wallRate: number;
  cpuRate: number;
}

/** Best of `repeat` runs of `fn` (which handles `events` events). */
function time(fn: () => void): Timing {
  let best: Timing = { wallRate: 0, cpuRate: 0 };
  for (let r = 0; r < repeat; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rate = { wallRate: events / wall, cpuRate: events / ((cpu.user + cpu.system) / 1e6) };
    if (rate.wallRate > best.wallRate) best = rate;
  }
  return best;
}

/** Mean EFlow objects per event, all and above stage 1's cuts (tracks pT > 0.5, towers ET > 1). */
function content(sample: SampleName, pileup: number | undefined) {
  const g = new EventGenerator(sample, 1, 999, pileup);
  const n = Math.min(events, 5000);
  const sums = { tracks: 0, photons: 0, neutrals: 0, stage1: 0, jets: 0 };
  for (let i = 0; i < n; i++) {
    g.next();
    const r = g.record;
    sums.tracks += r.track.n;
    sums.photons += r.photon.n;
    sums.neutrals += r.neutral.n;
    sums.jets += r.jet.n;
    for (let k = 0; k < r.track.n; k++) if (r.track.columns.PT[k]! > 0.5) sums.stage1++;
    for (const towers of [r.photon, r.neutral]) for (let k = 0; k < towers.n; k++) if (towers.columns.ET[k]! > 1) sums.stage1++;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n])) as typeof sums;
}

/** One markdown table of all samples at a pile-up level (undefined: the generator's default). */
function table(pileup: number | undefined): string[] {
  const rows: string[] = [];
  const totals = { gen: 0, write: 0, genCpu: 0, writeCpu: 0 };
  for (const sample of SAMPLES) {
    const warm = new EventGenerator(sample, 1, 998, pileup);
    for (let i = 0; i < 2000; i++) warm.next();
    const gen = time(() => {
      const g = new EventGenerator(sample, 1, 0, pileup);
      for (let i = 0; i < events; i++) g.next();
    });
    let bytes = 0;
    const write = time(() => {
      bytes = generateFile({ sample, seed: 1, fileIndex: 0, events, pileup }).length;
    });
    const c = content(sample, pileup);
    totals.gen += 1 / gen.wallRate;
    totals.write += 1 / write.wallRate;
    totals.genCpu += 1 / gen.cpuRate;
    totals.writeCpu += 1 / write.cpuRate;
    rows.push(
      `| ${sample} | ${fmt(gen.wallRate)} (${fmt(gen.cpuRate)}) | ${fmt(write.wallRate)} (${fmt(write.cpuRate)}) | ${c.tracks.toFixed(1)} / ${c.photons.toFixed(1)} / ${c.neutrals.toFixed(1)} | ${(c.tracks + c.photons + c.neutrals).toFixed(1)} | ${c.stage1.toFixed(1)} | ${c.jets.toFixed(2)} | ${(bytes / events).toFixed(0)} | ${((bytes / events) * 10000 / 1e6).toFixed(1)} |`,
    );
  }
  const k = SAMPLES.length;
  rows.push(`| **all (equal mix)** | ${fmt(k / totals.gen)} (${fmt(k / totals.genCpu)}) | ${fmt(k / totals.write)} (${fmt(k / totals.writeCpu)}) | | | | | | |`);
  return [
    `Pile-up: ${pileup ?? 'default (8)'} vertices on average.`,
    '',
    '| sample | generate only, ev/s | generate + write (zlib 1), ev/s | tracks / photons / neutral hadrons per event | EFlow per event | above stage-1 cuts | jets (pT > 20) | bytes per event | MB per 10k-event file |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

console.log(`Generator, ${events} events per sample, best of ${repeat}; rates as events/s of wall time (per CPU second), one core.\n`);
for (const line of [...table(undefined), ...table(Number(values.pileup))]) console.log(line);

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
