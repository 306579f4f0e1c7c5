/** Records the files a domain job returned as the stage's outputs. */
import type { OutputWriter } from '../kind.js';
import type { JobFile } from '../../ml/job.js';

export async function writeFiles(output: OutputWriter, files: readonly JobFile[]): Promise<void> {
  for (const { name, body, rows, volatile } of files) await output.write(name, body, { rows, volatile });
}
