/** Writes a stage's outputs under its data folder and records them for the manifest. */
import type { Storage } from '../storage/index.js';
import { joinKey } from '../storage/index.js';
import type { OutputEntry } from '../protocol/manifest.js';
import type { OutputInfo, OutputWriter } from '../stages/kind.js';

export class RecordingOutputWriter implements OutputWriter {
  private readonly entries = new Map<string, OutputEntry>();

  constructor(private readonly storage: Storage, private readonly prefix: string) {}

  keyFor(name: string): string {
    return joinKey(this.prefix, name);
  }

  async write(name: string, body: Uint8Array | string | AsyncIterable<Uint8Array>, info: OutputInfo = {}): Promise<OutputEntry> {
    const key = this.keyFor(name);
    const put = typeof body === 'string' || body instanceof Uint8Array
      ? await this.storage.put(key, body)
      : await this.storage.putStream(key, body);
    const entry: OutputEntry = {
      name, key, uri: this.storage.uri(key), bytes: put.bytes, sha256: put.sha256,
      ...(info.rows !== undefined ? { rows: info.rows } : {}),
      ...(info.volatile ? { volatile: true as const } : {}),
    };
    this.entries.set(name, entry);
    return entry;
  }

  /** In name order, so manifests do not depend on write order. */
  outputs(): OutputEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
