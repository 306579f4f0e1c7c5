/**
 * Where a pipeline's data lives: the `storage:` section of pipelines.yaml and
 * of a run's input. Pure (zod only): workflows import it to validate input,
 * so an `s3://` root that breaks S3's naming rules fails the run at once,
 * not at its first stage.
 */
import { z } from 'zod';
import { s3RootProblem } from './s3Root.js';

export const StorageSpec = z.strictObject({
  /** `file:///abs/path`, or `s3://bucket/prefix`. */
  root: z
    .string()
    .regex(/^(file:\/\/\/|s3:\/\/)[^\s]+$/, { message: 'expected file:///absolute/path or s3://bucket/prefix', abort: true })
    .superRefine((root, ctx) => {
      const problem = root.startsWith('s3://') ? s3RootProblem(root) : undefined;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** S3 endpoint URL for S3-compatible services (MinIO, Ceph, ...). */
  endpoint: z.string().url().optional(),
  region: z.string().optional(),
  forcePathStyle: z.boolean().optional(),
  /** S3: milliseconds to establish a connection before the attempt fails (default 5,000). */
  connectTimeoutMs: z.number().int().positive().optional(),
  /** S3: milliseconds from sending a request (its body included) to the start of the response before the attempt fails (default 60,000). */
  requestTimeoutMs: z.number().int().positive().optional(),
  /** S3: attempts per request, with exponential back-off between them (default 4). */
  maxAttempts: z.number().int().min(1).max(20).optional(),
});
export type StorageSpec = z.infer<typeof StorageSpec>;
