/**
 * The set of stage kinds a process knows: built-ins plus plug-in modules
 * (`TOPOFLOW_PLUGINS`, comma-separated module paths exporting `stageKinds`).
 */
import type { StageKind } from './kind.js';

export class KindRegistry {
  private readonly kinds = new Map<string, StageKind>();

  constructor(kinds: Iterable<StageKind> = []) {
    for (const k of kinds) this.register(k);
  }

  register(kind: StageKind): void {
    if (this.kinds.has(kind.name)) throw new Error(`stage kind "${kind.name}" is registered twice`);
    this.kinds.set(kind.name, kind);
  }

  get(name: string): StageKind | undefined {
    return this.kinds.get(name);
  }

  /** Sorted, for "expected one of" messages. */
  names(): string[] {
    return [...this.kinds.keys()].sort();
  }
}
