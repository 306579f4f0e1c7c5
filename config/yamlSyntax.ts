/**
 * The yaml library's syntax errors in the project's words: what is wrong and
 * how to fix it, for the mistakes people make (tabs, indentation, two keys
 * on one line, a missing colon). An error this module does not know keeps
 * the library's own text. Pure: works on the error and the source text.
 */
import type { YAMLError } from 'yaml';

/**
 * Errors after which the rest of the document is a guess (the parser lost
 * track of the nesting): only the first of them is a mistake, the others echo it.
 */
const DERAILS = new Set(['TAB_AS_INDENT', 'BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'MISSING_CHAR', 'UNEXPECTED_TOKEN', 'BLOCK_IN_FLOW', 'BAD_SCALAR_START', 'IMPOSSIBLE']);

/** Whether errors after this one are to be dropped as its consequences. */
export function derails(error: YAMLError): boolean {
  return DERAILS.has(error.code);
}

export interface SyntaxMessage {
  message: string;
  /** Where the mistake is, when the library points elsewhere (default: the error's own offset). */
  offset?: number;
}

/** The error's message (and the offset of the mistake) for a source `text`. */
export function syntaxMessage(error: YAMLError, text: string): SyntaxMessage {
  const raw = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const offset = error.pos[0];
  switch (raw) {
    case 'Tabs are not allowed as indentation':
      return { message: `${raw}: YAML indents with spaces only; replace the tab with spaces` };
    case 'All mapping items must start at the same column':
      return { message: 'this key is not lined up with the keys above it: keys of one mapping must start at the same column; indent it like its neighbours (or further than the key it belongs under)' };
    case 'All sequence items must start at the same column':
    case 'A block sequence may not be used as an implicit map key':
      return { message: 'this `- ` item is not lined up with the items above it: items of one list must start at the same column' };
    case 'Nested mappings are not allowed in compact mappings':
      return nestedMapping(text, offset);
    case 'Implicit keys need to be on a single line':
      return { message: 'expected `key: value` (or `key:` with the value on the lines below): a colon, or the space after it, is missing' };
    case 'Unexpected block-seq-ind on same line with key':
      return { message: 'a `- ` list cannot start on the same line as its key: put each `- item` on its own line below the key, indented further, or write the list as [a, b]' };
    case 'Block collections are not allowed within flow collections':
      return { message: 'inside { … } and [ … ] entries are separated by commas: a comma is probably missing, e.g. { uses: noop, needs: [a] }' };
    default:
      return { message: raw };
  }
}

/**
 * The library says "nested mappings are not allowed in compact mappings" for
 * two mistakes: a second `key:` on the line of a key that already has one
 * (`with: retry: …`), and a line indented under a key that already has a
 * value on its own line. The second is reported on the line that is wrong.
 */
function nestedMapping(text: string, offset: number): SyntaxMessage {
  const end = text.indexOf('\n', offset);
  const rest = text.slice(offset, end < 0 ? undefined : end);
  if (/:(\s|$)/.test(rest.replace(/\s#.*$/, ''))) {
    return { message: 'a mapping cannot start on the same line as its key: put the inner `key: value` on its own line, indented below the outer key, or write it as { key: value }' };
  }
  const next = end < 0 ? -1 : text.slice(end + 1).search(/\S/);
  return {
    message: 'this line is indented further than the key above it, which already has a value: line it up with that key, or move that value to its own lines',
    ...(next < 0 ? {} : { offset: end + 1 + next }),
  };
}
