/**
 * Where a pipeline's data lives: the `storage:` section of pipelines.yaml and
 * of a run's input. Pure (zod only): workflows import it to validate input.
 */
import { z } from 'zod';

export const StorageSpec = z.strictObject({
  /** `file:///abs/path`, or `s3://bucket/prefix`. */
  root: z.string().regex(/^(file:\/\/\/|s3:\/\/)[^\s]+$/, 'expected file:///absolute/path or s3://bucket/prefix'),
  /** S3 endpoint URL for S3-compatible services (MinIO, Ceph, ...). */
  endpoint: z.string().url().optional(),
  region: z.string().optional(),
  forcePathStyle: z.boolean().optional(),
});
export type StorageSpec = z.infer<typeof StorageSpec>;
