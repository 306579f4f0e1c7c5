/** The project venv's python (made by infra/python.sh, which test.sh runs first). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../infra/tools.js';

let cached: string | undefined;

/** Path of the venv's python; creates the venv on first use (idempotent). */
export function python(): string {
  cached ??= execFileSync('bash', [join(projectRoot, 'infra', 'python.sh')], { encoding: 'utf8' }).trim();
  return cached;
}
