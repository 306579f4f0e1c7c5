/**
 * The loader's vocabulary (config/vocabulary.ts) from this process's stage
 * kinds and the model schema (templates: a model's values may be `${hp.NAME}`
 * placeholders, which only a tune stage fills): config/ sits below stages/ and ml/, so it is
 * handed what it needs from them.
 */
import type { ConfigVocabulary } from '../config/vocabulary.js';
import { ModelTemplate } from '../ml/tuning/template.js';
import type { KindRegistry } from './registry.js';

export function configVocabulary(registry: KindRegistry): ConfigVocabulary {
  return { kinds: registry, modelSchema: ModelTemplate };
}
