/**
 * Training checkpoints in storage: `<folder>/step-<global step>/tensors.bin`
 * (the float32 tensors back to back) then `state.json` (position, metrics so
 * far, tensor layout, the tensors' SHA-256), written last: a checkpoint
 * without a readable state.json, or whose bytes do not match it, does not
 * exist. The newest valid one wins; older ones are pruned.
 */
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError, joinKey } from '../storage/index.js';
import { packTensors, unpackTensors, type NamedTensor, type PackedTensor } from './tensorPack.js';
import { sha256Hex } from '../common/hash.js';

export interface Checkpoint<S> {
  /** What the trainer needs to continue: position, metrics, config echo. */
  state: S;
  tensors: Float32Array[];
}

interface StateFile<S> {
  format: 'topoflow.checkpoint/1';
  step: number;
  state: S;
  tensors: PackedTensor[];
  sha256: string;
  savedAt: string;
}

export class CheckpointStore<S> {
  constructor(private readonly storage: Storage, private readonly folder: string, private readonly keep = 2) {}

  async save(step: number, state: S, tensors: NamedTensor[]): Promise<void> {
    const { bytes, layout } = packTensors(tensors);
    const dir = this.stepFolder(step);
    await this.storage.put(joinKey(dir, 'tensors.bin'), bytes);
    const file: StateFile<S> = { format: 'topoflow.checkpoint/1', step, state, tensors: layout, sha256: sha256Hex(bytes), savedAt: new Date().toISOString() };
    await this.storage.put(joinKey(dir, 'state.json'), JSON.stringify(file));
    await this.prune();
  }

  /** The newest complete checkpoint, or null. Damaged ones are skipped (and reported through `warn`). */
  async latest(warn: (message: string) => void = () => {}): Promise<(Checkpoint<S> & { step: number }) | null> {
    for (const step of (await this.steps()).reverse()) {
      const loaded = await this.load(step).catch((err: unknown) => {
        warn(`checkpoint at step ${step} is unusable (${(err as Error).message}); trying an older one`);
        return null;
      });
      if (loaded) return { step, ...loaded };
    }
    return null;
  }

  /** The checkpoint saved at `step`, or null if there is none (or it was never completed); a damaged one is an error. */
  async at(step: number): Promise<Checkpoint<S> | null> {
    return this.load(step);
  }

  private async load(step: number): Promise<Checkpoint<S> | null> {
    const dir = this.stepFolder(step);
    let file: StateFile<S>;
    try {
      file = JSON.parse(Buffer.from(await this.storage.get(joinKey(dir, 'state.json'))).toString('utf8')) as StateFile<S>;
    } catch (err) {
      if (err instanceof StorageNotFoundError) return null; // interrupted before its state was written
      throw err;
    }
    if (file.format !== 'topoflow.checkpoint/1') throw new Error(`unknown checkpoint format ${JSON.stringify(file.format)}`);
    const bytes = await this.storage.get(joinKey(dir, 'tensors.bin'));
    if (sha256Hex(bytes) !== file.sha256) throw new Error('tensors.bin does not match the SHA-256 in state.json');
    const tensors = unpackTensors(bytes, file.tensors);
    return { state: file.state, tensors };
  }

  private async steps(): Promise<number[]> {
    const steps = new Set<number>();
    for (const o of await this.storage.list(`${this.folder}/`)) {
      const m = /\/step-(\d+)\//.exec(o.key.slice(this.folder.length));
      if (m) steps.add(Number(m[1]));
    }
    return [...steps].sort((a, b) => a - b);
  }

  private async prune(): Promise<void> {
    const steps = await this.steps();
    for (const step of steps.slice(0, Math.max(0, steps.length - this.keep))) await this.storage.deletePrefix(`${this.stepFolder(step)}/`);
  }

  private stepFolder(step: number): string {
    return joinKey(this.folder, `step-${String(step).padStart(9, '0')}`);
  }
}
