/**
 * Test-only stage kinds, loaded by workers through TOPOFLOW_PLUGINS.
 * Deterministic outputs (so interrupted and uninterrupted runs can be
 * compared byte for byte), optional slowness (to kill things mid-stage).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { FanoutStageKind, SimpleStageKind, StageKind } from '../../stages/kind.js';

const Emit = z.strictObject({
  rows: z.number().int().nonnegative(),
  seed: z.number().int().default(1),
  /** Spread over the chunks of a streamed write, so a kill lands mid-object. */
  delayMs: z.number().int().nonnegative().default(0),
  chunks: z.number().int().positive().default(4),
});

/** Writes `rows.jsonl`: one {i, value} per row, streamed in chunks. */
export const testEmit: SimpleStageKind<z.infer<typeof Emit>> = {
  type: 'simple',
  name: 'test-emit',
  version: '1',
  description: 'test: deterministic rows, optionally slow',
  withSchema: Emit,
  async run(ctx) {
    const { rows, seed, delayMs, chunks } = ctx.with;
    const perChunk = Math.ceil(rows / chunks) || 1;
    async function* body() {
      for (let c = 0; c * perChunk < Math.max(rows, 1); c++) {
        const lines: string[] = [];
        for (let i = c * perChunk; i < Math.min(rows, (c + 1) * perChunk); i++) lines.push(JSON.stringify({ i, value: (i * 7919 + seed * 104729) % 1000 }));
        yield new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
        ctx.progress({ done: Math.min(rows, (c + 1) * perChunk), total: rows, unit: 'rows' });
        if (delayMs) await sleep(delayMs / chunks, undefined, { signal: ctx.signal });
      }
    }
    await ctx.output.write('rows.jsonl', body(), { rows });
    return { counts: { rows } };
  },
};

/** Sums `value` over every input's jsonl outputs; writes `sum.json`. */
export const testSum: SimpleStageKind<Record<string, never>> = {
  type: 'simple',
  name: 'test-sum',
  version: '1',
  description: 'test: sums the rows of its inputs',
  withSchema: z.strictObject({}),
  async run(ctx) {
    let sum = 0;
    let rows = 0;
    for (const id of Object.keys(ctx.inputs).sort()) {
      for (const out of ctx.inputs[id]!.outputs.filter((o) => o.name.endsWith('.jsonl'))) {
        const text = Buffer.from(await ctx.storage.get(out.key)).toString('utf8');
        for (const line of text.split('\n').filter(Boolean)) {
          sum += (JSON.parse(line) as { value: number }).value;
          rows++;
        }
      }
    }
    await ctx.output.write('sum.json', JSON.stringify({ sum, rows }));
    return { counts: { rows }, summary: { sum } };
  },
};

/** Leaves one `counted/<stage>/…` object per computation, so a test can count how often a key was computed. */
const markComputation = (ctx: { storage: { put(key: string, body: string): Promise<unknown> }; stageId: string }, what: string) =>
  ctx.storage.put(`counted/${ctx.stageId}/${what}-${randomUUID()}`, `${process.pid}\n`);

/** test-emit that counts its computations. */
export const testCounted: SimpleStageKind<z.infer<typeof Emit>> = {
  ...testEmit,
  name: 'test-counted',
  description: 'test: deterministic rows, slow, counting each computation',
  async run(ctx) {
    await markComputation(ctx, 'run');
    return testEmit.run(ctx);
  },
};

const Flaky = z.strictObject({ succeed: z.boolean(), message: z.string().default('') });

/** Fails unless `succeed` is true: for holds, operator retries and aborts. */
export const testFlaky: SimpleStageKind<z.infer<typeof Flaky>> = {
  type: 'simple',
  name: 'test-flaky',
  version: '1',
  description: 'test: fails unless succeed=true',
  withSchema: Flaky,
  async run(ctx) {
    if (!ctx.with.succeed) throw new Error(`test-flaky told to fail${ctx.with.message ? `: ${ctx.with.message}` : ''}`);
    await ctx.output.write('ok.txt', 'ok\n');
    return {};
  },
};

const Fan = z.strictObject({
  shards: z.number().int().positive(),
  delayMs: z.number().int().nonnegative().default(0),
  window: z.number().int().positive().default(4),
  /** Count each shard computation (see markComputation). */
  count: z.boolean().optional(),
});

/** N shards, each writing one small file; combine writes the total. */
export const testFanout: FanoutStageKind<z.infer<typeof Fan>, { shard: number }> = {
  type: 'fanout',
  name: 'test-fanout',
  version: '1',
  description: 'test: fan-out over N shards',
  withSchema: Fan,
  window: (w) => w.window,
  async plan(ctx) {
    return Array.from({ length: ctx.with.shards }, (_, shard) => ({ shard }));
  },
  async runShard(ctx, shard) {
    if (ctx.with.count) await markComputation(ctx, `shard-${shard.shard}`);
    ctx.progress({ done: 0, total: 1, unit: 'shards', message: `shard ${shard.shard}` });
    if (ctx.with.delayMs) await sleep(ctx.with.delayMs, undefined, { signal: ctx.signal });
    await ctx.output.write(`shard-${shard.shard}.txt`, `shard ${shard.shard}\n`);
    ctx.progress({ done: 1, total: 1, unit: 'shards' });
    return { counts: { shards: 1 } };
  },
  async combine(ctx, shards) {
    await ctx.output.write('total.json', JSON.stringify({ shards: shards.length }));
    return { summary: { shards: shards.length } };
  },
};

const Chatty = z.strictObject({
  reports: z.number().int().positive(),
  /** Spread over the reports. */
  ms: z.number().int().nonnegative(),
  /** Reports count towards a total (else: a bare count, as a stream of unknown length reports). */
  withTotal: z.boolean().default(true),
});

/** Reports progress `reports` times over `ms`: far more often than a run's history could record. */
export const testChatty: SimpleStageKind<z.infer<typeof Chatty>> = {
  type: 'simple',
  name: 'test-chatty',
  version: '1',
  description: 'test: reports progress very often',
  withSchema: Chatty,
  async run(ctx) {
    const { reports, ms, withTotal } = ctx.with;
    const started = Date.now();
    for (let i = 1; i <= reports; i++) {
      ctx.progress({ done: i, ...(withTotal ? { total: reports } : {}), unit: 'ticks', message: `tick ${i}` });
      const due = started + (ms * i) / reports;
      if (Date.now() < due) await sleep(due - Date.now(), undefined, { signal: ctx.signal });
    }
    await ctx.output.write('ticks.txt', `${reports}\n`);
    return { counts: { ticks: reports } };
  },
};

const Pre = z.strictObject({ shards: z.number().int().positive(), window: z.number().int().positive().default(3) });

/** A two-pass fan-out: the prepass squares each shard index, merged into a total every shard then sees. */
export const testPrepass: FanoutStageKind<z.infer<typeof Pre>, { shard: number }> = {
  type: 'fanout',
  name: 'test-prepass',
  version: '1',
  description: 'test: fan-out with a statistics prepass',
  withSchema: Pre,
  window: (w) => w.window,
  async plan(ctx) {
    return Array.from({ length: ctx.with.shards }, (_, shard) => ({ shard }));
  },
  prepass: {
    async runShard(_ctx, shard) {
      return { square: shard.shard * shard.shard };
    },
    async merge(_ctx, results) {
      return { total: results.reduce((s: number, r) => s + (r as { square: number }).square, 0) };
    },
  },
  async runShard(ctx, shard) {
    const { total } = ctx.prepared as { total: number };
    await ctx.output.write(`shard-${shard.shard}.txt`, `${shard.shard}/${total}\n`);
    return { counts: { shards: 1 } };
  },
  async combine(ctx) {
    return { summary: ctx.prepared ?? null };
  },
};

export const stageKinds: StageKind[] = [testEmit, testSum, testFlaky, testFanout, testPrepass, testCounted, testChatty];
