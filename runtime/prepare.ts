/**
 * Turns a run request (pipeline name or inline spec, param overrides) into a
 * fully validated, resolved plan: stages in topological order with their
 * `with` substituted and checked by each kind's schema.
 */
import { ConfigError, type Finding } from '../config/errors.js';
import { parseWith } from '../config/zodIssues.js';
import { loadPipelinesFile, validateInlinePipeline } from '../config/load.js';
import { mergeParams, resolveWith } from '../config/params.js';
import { resolveModelRef } from '../config/models.js';
import { topoOrder } from '../config/dag.js';
import { RetrySpec, type PipelineSpec, type Params } from '../config/spec.js';
import { StorageSpec } from '../storage/spec.js';
import { DEFAULT_TASK_QUEUE, type PreparedRun, type PrepareRunRequest, type ResolvedStage } from '../protocol/protocol.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import type { KindRegistry } from '../stages/registry.js';

export interface PrepareEnv {
  registry: KindRegistry;
  /** pipelines.yaml used when the request names a pipeline without a specFile. */
  defaultSpecFile: string;
}

export function prepareRun(req: PrepareRunRequest, env: PrepareEnv): PreparedRun {
  const { spec, storage } = locateSpec(req, env);
  const params = mergeParams(spec.params, req.params ?? {});
  return { pipeline: spec.name, storage, params, spec, stages: resolveStages(spec, params, env.registry) };
}

function locateSpec(req: PrepareRunRequest, env: PrepareEnv): { spec: PipelineSpec; storage: StorageSpec } {
  const vocabulary = configVocabulary(env.registry);
  if (typeof req.pipeline !== 'string') {
    const spec = validateInlinePipeline(req.pipeline, vocabulary);
    const storage = req.storage ? checkedStorage(req.storage) : loadPipelinesFile(req.specFile ?? env.defaultSpecFile, vocabulary).storage;
    return { spec, storage };
  }
  const file = loadPipelinesFile(req.specFile ?? env.defaultSpecFile, vocabulary);
  const spec = file.pipelines[req.pipeline];
  if (!spec) {
    throw new ConfigError([{ file: file.file, path: ['pipelines', req.pipeline], message: `no pipeline named "${req.pipeline}"; expected one of: ${Object.keys(file.pipelines).sort().join(', ')}` }]);
  }
  return { spec, storage: req.storage ? checkedStorage(req.storage) : file.storage };
}

/**
 * A storage given with the request, checked here as the file's is by the
 * loader: the caller may not have validated it, and a bad root would only
 * fail at the first stage.
 */
function checkedStorage(storage: StorageSpec): StorageSpec {
  const findings: Finding[] = [];
  const checked = parseWith(StorageSpec, storage, ['storage'], findings);
  if (checked === undefined) throw new ConfigError(findings.map(({ path, message }) => ({ path, message })));
  return checked;
}

export function resolveStages(spec: PipelineSpec, params: Params, registry: KindRegistry): ResolvedStage[] {
  return topoOrder(spec.stages).map((id) => {
    const stage = spec.stages[id]!;
    const kind = registry.get(stage.uses);
    const path = ['pipelines', spec.name, 'stages', id];
    if (!kind) throw new ConfigError([{ path: [...path, 'uses'], message: `unknown stage kind "${stage.uses}"; expected one of: ${registry.names().join(', ')}` }]);
    const resolved = resolveModelRef(resolveWith(stage.with, params, [...path, 'with']), spec.models, [...path, 'with']);
    const parsed = kind.withSchema.safeParse(resolved);
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((i) => ({ path: [...path, 'with', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message })));
    }
    return {
      id,
      uses: stage.uses,
      kindVersion: kind.version,
      kindType: kind.type === 'simple' && kind.fanoutFor?.(parsed.data) ? 'fanout' : kind.type,
      needs: stage.needs,
      with: parsed.data as Record<string, unknown>,
      retry: stage.retry ?? RetrySpec.parse({}),
      timeout: stage.timeout,
      heartbeatTimeout: stage.heartbeatTimeout,
      queue: stage.queue ?? kind.queue ?? DEFAULT_TASK_QUEUE,
    };
  });
}
