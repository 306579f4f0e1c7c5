/**
 * What the loader needs to know about stage kinds and models. Its caller
 * supplies it (stages/configVocabulary.ts), because config/ sits below
 * stages/ and ml/ and imports neither.
 */
import type { z } from 'zod';

/** The stage kinds a pipeline may use (a stages/ KindRegistry fits as it is). */
export interface KindSchemas {
  /** The kind's schema for a stage's `with`; undefined for an unknown kind. */
  get(name: string): { readonly withSchema: z.ZodType; readonly inputRefs?: Readonly<Record<string, string>> } | undefined;
  /** Sorted, for "expected one of" messages. */
  names(): readonly string[];
}

export interface ConfigVocabulary {
  kinds: KindSchemas;
  /** Checks each definition in the file's `models:` section. */
  modelSchema: z.ZodType;
}
