/** A JSON object in storage, or null when absent. */
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError } from '../storage/index.js';

export async function readJson<T>(storage: Storage, key: string): Promise<T | null> {
  try {
    return JSON.parse(Buffer.from(await storage.get(key)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof StorageNotFoundError) return null;
    throw err;
  }
}
