/**
 * The stage kinds this process knows: the built-ins plus plug-in modules named
 * in TOPOFLOW_PLUGINS (comma-separated paths or package names; each module
 * exports `stageKinds: StageKind[]`). Workers and the CLI load the same set.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StageKind } from './kind.js';
import { KindRegistry } from './registry.js';
import { noop } from './builtin/noop.js';
import { generate } from './builtin/generate.js';
import { ingest } from './builtin/ingest.js';
import { features } from './builtin/features.js';
import { train } from './builtin/train.js';
import { evaluate } from './builtin/evaluate.js';
import { tune } from './builtin/tune.js';
import { score } from './builtin/score.js';

export const builtinKinds: StageKind[] = [noop, generate, ingest, features, tune, train, evaluate, score];

export async function loadRegistry(plugins = pluginsFromEnv()): Promise<KindRegistry> {
  const registry = new KindRegistry(builtinKinds);
  for (const spec of plugins) {
    const url = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec;
    let mod: { stageKinds?: unknown };
    try {
      mod = (await import(url)) as { stageKinds?: unknown };
    } catch (err) {
      throw new Error(`cannot load stage plug-in "${spec}" (from TOPOFLOW_PLUGINS): ${(err as Error).message}`);
    }
    if (!Array.isArray(mod.stageKinds)) throw new Error(`stage plug-in "${spec}" does not export a "stageKinds" array`);
    for (const kind of mod.stageKinds as StageKind[]) registry.register(kind);
  }
  return registry;
}

export function pluginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.TOPOFLOW_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
