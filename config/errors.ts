/**
 * Configuration problems and how they read. An issue is located by key path
 * (always) and by file/line/column (when it comes from a YAML file), and is
 * printed as `pipelines.yaml:12:7: pipelines.demo.stages.train.uses: message`.
 * Pure (no Node built-ins): workflow code imports it.
 */

export type ConfigPath = (string | number)[];

export interface ConfigIssue {
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  path: ConfigPath;
  message: string;
}

/**
 * A problem located by key path only, while a file is being checked; the
 * loader attaches its file:line:column at the end (config/yamlPositions.ts).
 */
export interface Finding {
  path: ConfigPath;
  message: string;
  /** Point at the key itself rather than its value. */
  at?: 'key';
  /** A source offset that overrides the path (syntax errors, repeated keys). */
  offset?: number;
}

/** Carries every issue found; `message` is the formatted list, one issue a line. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `pipelines.demo.stages.train.needs[0]`; odd keys as `["my key"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[\w-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Human name of a record key, from where the record sits: `stage id`, `param name`... */
export function keyLabel(path: ConfigPath): string {
  const labels: Record<string, string> = { pipelines: 'pipeline name', stages: 'stage id', params: 'param name' };
  return labels[String(path[path.length - 2])] ?? 'key';
}

export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file ?? '';
  if (issue.line !== undefined) {
    where += `${where ? ':' : ''}${issue.line}`;
    if (issue.column !== undefined) where += `:${issue.column}`;
  }
  return [where, formatPath(issue.path), issue.message].filter((part) => part !== '').join(': ');
}

/**
 * Issues with the offending source line and a caret under the column, for
 * terminals (`topoflow validate`). Without `source` it is the plain list.
 */
export function formatReport(issues: readonly ConfigIssue[], source?: string): string {
  const lines = source?.split(/\r?\n/);
  return issues
    .map((issue) => {
      const text = formatIssue(issue);
      const code = issue.line !== undefined ? lines?.[issue.line - 1] : undefined;
      if (code === undefined) return text;
      const gutter = `  ${issue.line} | `;
      const out = [text, gutter + code];
      if (issue.column !== undefined) out.push(`${' '.repeat(gutter.length + issue.column - 1)}^`);
      return out.join('\n');
    })
    .join('\n');
}

/** `expected one of: a, b, c (did you mean "b"?)` for closed sets of choices. */
export function expectedOneOf(choices: readonly string[], found?: string): string {
  if (choices.length === 0) return 'there are none to choose from';
  const guess = found === undefined ? undefined : didYouMean(found, choices);
  return `expected one of: ${choices.join(', ')}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`;
}

/** The closest choice within a small edit distance (typos, transpositions, case); none for one-letter words. */
export function didYouMean(found: string, choices: readonly string[]): string | undefined {
  const limit = Math.min(found.length <= 3 ? 1 : 2, found.length - 1);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const choice of choices) {
    const d = editDistance(found.toLowerCase(), choice.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [choice, d];
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** A found value as a message shows it: `string "abc"`, `number 5`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value (null)';
  if (Array.isArray(value)) return `a list ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
