/**
 * Graph helpers over a pipeline's stages (`needs` edges). Pure (no Node
 * built-ins): workflow code imports it.
 *
 * Cycles are written in data-flow order: in `a → b → a`, b needs a and a needs b.
 * Needs naming unknown stages are ignored by the graph functions; `dagIssues`
 * reports them.
 */
import { ConfigError, expectedOneOf, type ConfigIssue } from './errors.js';
import { isPlainObject } from './json.js';

export type DagStages = Readonly<Record<string, { readonly needs: readonly string[] }>>;

function knownNeeds(stages: DagStages, id: string): string[] {
  return (stages[id]?.needs ?? []).filter((dep) => Object.hasOwn(stages, dep));
}

/** One cycle such as ['a', 'b', 'c', 'a'] (first and last equal), or null. Deterministic. */
export function findCycle(stages: DagStages): string[] | null {
  const ids = Object.keys(stages);
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];

  // Depth-first along needs: each stack entry needs the next one.
  const visit = (id: string): string[] | null => {
    state.set(id, 'active');
    stack.push(id);
    for (const dep of knownNeeds(stages, id)) {
      if (state.get(dep) === 'active') return stack.slice(stack.indexOf(dep));
      if (!state.has(dep)) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };

  for (const id of ids) {
    const chain = state.has(id) ? null : visit(id);
    if (chain) return asFlowCycle(chain, ids);
  }
  return null;
}

/** A needs-chain [v, x, u] (u needs v) becomes the flow cycle starting at its earliest-declared stage. */
function asFlowCycle(needsChain: string[], declared: string[]): string[] {
  const flow = [...needsChain].reverse();
  const first = flow.reduce((best, id) => (declared.indexOf(id) < declared.indexOf(best) ? id : best));
  const start = flow.indexOf(first);
  const rotated = [...flow.slice(start), ...flow.slice(0, start)];
  return [...rotated, first];
}

/** `a → b → a (b needs a, a needs b)` */
export function describeCycle(cycle: readonly string[]): string {
  const edges = cycle.slice(1).map((id, i) => `${id} needs ${cycle[i]}`);
  return `${cycle.join(' → ')} (${edges.join(', ')})`;
}

/** Every stage after all it needs; among ready stages, the earliest declared first. Throws on a cycle. */
export function topoOrder(stages: DagStages): string[] {
  const ids = Object.keys(stages);
  const waitingOn = new Map(ids.map((id) => [id, new Set(knownNeeds(stages, id))]));
  const order: string[] = [];
  while (waitingOn.size > 0) {
    const next = ids.find((id) => waitingOn.get(id)?.size === 0);
    if (next === undefined) throw new Error(`stages form a cycle: ${describeCycle(findCycle(stages) ?? [])}`);
    order.push(next);
    waitingOn.delete(next);
    for (const deps of waitingOn.values()) deps.delete(next);
  }
  return order;
}

/** `ids` plus every stage that needs them, transitively (e.g. what a re-run from `ids` recomputes). */
export function downstreamOf(stages: DagStages, ids: Iterable<string>): Set<string> {
  const all = Object.keys(stages);
  const start = [...ids];
  const unknown = start.filter((id) => !Object.hasOwn(stages, id));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((id) => ({ path: [], message: `unknown stage "${id}"; ${expectedOneOf(all, id)}` })));
  }
  const reached = new Set(start);
  const queue = [...start];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const other of all) {
      if (!reached.has(other) && knownNeeds(stages, other).includes(id)) {
        reached.add(other);
        queue.push(other);
      }
    }
  }
  return new Set(all.filter((id) => reached.has(id)));
}

/**
 * A stage's `needs` before the stage is validated (a list of strings, else
 * none), so that the DAG problems of a stage with another wrong field are
 * reported too.
 */
export function declaredNeeds(stage: unknown): string[] {
  const needs = isPlainObject(stage) ? stage.needs : undefined;
  return Array.isArray(needs) && needs.every((n) => typeof n === 'string') ? needs : [];
}

/**
 * Problems in the `needs` of each stage: unknown stages, a stage needing
 * itself, entries listed twice, and cycles (each reported once, at the needs
 * entry of its earliest-declared stage). Paths are relative to the stages
 * record: `[stageId, 'needs', index]`.
 */
export function dagIssues(stages: DagStages): ConfigIssue[] {
  const issues = Object.keys(stages).flatMap((id) => needsIssues(stages, id));
  return [...issues, ...cycleIssues(stages)];
}

function needsIssues(stages: DagStages, id: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const firstAt = new Map<string, number>();
  const others = Object.keys(stages).filter((other) => other !== id);
  stages[id]!.needs.forEach((dep, i) => {
    const path = [id, 'needs', i];
    if (dep === id) {
      issues.push({ path, message: `stage "${id}" needs itself; a stage can only need other stages` });
    } else if (!Object.hasOwn(stages, dep)) {
      issues.push({ path, message: `needs unknown stage "${dep}"; ${expectedOneOf(others, dep)}` });
    } else if (firstAt.has(dep)) {
      issues.push({ path, message: `"${dep}" is listed twice in needs (first at needs[${firstAt.get(dep)}])` });
    }
    if (!firstAt.has(dep)) firstAt.set(dep, i);
  });
  return issues;
}

/** Finds a cycle, reports it, drops its closing edge and looks again, until none is left. */
function cycleIssues(stages: DagStages): ConfigIssue[] {
  // Self-needs are reported on their own; leave them out of the cycle search.
  const graph: Record<string, { needs: string[] }> = {};
  for (const id of Object.keys(stages)) graph[id] = { needs: knownNeeds(stages, id).filter((dep) => dep !== id) };

  const issues: ConfigIssue[] = [];
  for (let cycle = findCycle(graph); cycle; cycle = findCycle(graph)) {
    const [first, closing] = [cycle[0]!, cycle[cycle.length - 2]!]; // `first` needs `closing`
    issues.push({ path: [first, 'needs', stages[first]!.needs.indexOf(closing)], message: `needs form a cycle: ${describeCycle(cycle)}` });
    graph[first]!.needs = graph[first]!.needs.filter((dep) => dep !== closing);
  }
  return issues;
}
