#!/usr/bin/env node
// Entry point of the `topoflow` command: runs the compiled CLI (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write('topoflow is not built yet: run `bash infra/setup.sh` (or `npm run build`) first\n');
  process.exit(1);
}
const { main } = await import(compiled);
process.exitCode = await main(process.argv);
