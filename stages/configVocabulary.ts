/**
 * The loader's vocabulary (config/vocabulary.ts) from this process's stage
 * kinds and the model schema: config/ sits below stages/ and ml/, so it is
 * handed what it needs from them.
 */
import type { ConfigVocabulary } from '../config/vocabulary.js';
import { ModelSpec } from '../ml/modelSpec.js';
import type { KindRegistry } from './registry.js';

export function configVocabulary(registry: KindRegistry): ConfigVocabulary {
  return { kinds: registry, modelSchema: ModelSpec };
}
