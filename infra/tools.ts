/** Locates the external binaries topoflow runs (temporal, minio). */
import { existsSync } from 'node:fs';
import { delimiter, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (works from sources and from dist/). */
export const projectRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('cannot find the topoflow project root (package.json)');
    dir = up;
  }
  return dir;
})();

export const toolsBin = join(projectRoot, '.tools', 'bin');

export type ToolName = 'temporal' | 'minio';

/** Project-local `.tools/bin/<name>` first, then PATH. Throws a readable error. */
export function toolPath(name: ToolName): string {
  const local = join(toolsBin, name);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`the "${name}" binary was not found in ${toolsBin} or on PATH; run: bash infra/install-tools.sh`);
}
