/**
 * Glob patterns over '/'-separated keys and paths (pure): `*` and `?` match
 * within one segment, `**` any number of whole segments; a pattern ending in
 * '/' is a prefix. Listing starts at `base`, the segments before the first
 * one with a wildcard, so a pattern lists only its own folder.
 */
export interface CompiledGlob {
  /** The literal leading folder ('' or ending in '/'): list from here. */
  base: string;
  test(path: string): boolean;
}

/** A pattern, not a single file: it has a wildcard or ends in '/'. */
export const isPattern = (s: string) => /[*?]/.test(s) || s.endsWith('/');

/** `prefixMatches` is what a trailing '/' stands for (e.g. `**\/*.root`). */
export function compileGlob(pattern: string, prefixMatches = '**'): CompiledGlob {
  const full = pattern.endsWith('/') ? `${pattern}${prefixMatches}` : pattern;
  const segments = full.split('/');
  const firstWild = segments.findIndex((s) => /[*?]/.test(s));
  const base = firstWild <= 0 ? '' : `${segments.slice(0, firstWild).join('/')}/`;
  let source = '';
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if (s === '**') source += last ? '.*' : '(?:[^/]+/)*';
    else source += `${s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}${last ? '' : '/'}`;
  });
  const re = new RegExp(`^${source}$`);
  return { base, test: (path) => re.test(path) };
}
